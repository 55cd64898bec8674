#!/usr/bin/env python3
"""Reference files for Winnow's canonical SMILES, InChIKeys and standardiser, made once with RDKit.

Run from the repository root with a Python that has RDKit (pip install rdkit):
    python3 scripts/standardize/make_references.py ../shared/data
Writes, under Tests/ChemistryTests/Fixtures/:
- canonical_random_smiles.tsv: id, RDKit canonical isomeric SMILES, three RDKit random SMILES of
  the same molecule (doRandom, seeded) -- Winnow's canonical SMILES must be equal for all three and
  the input, and group the molecules exactly as RDKit's canonical SMILES do.
- standardize_rdkit.tsv: id, input SMILES, RDKit's standardised molecule
  (LargestFragmentChooser(preferOrganic=True), then Uncharger()) as canonical isomeric SMILES, and
  the standardised molecule's InChIKey (Chem.MolToInchiKey).
"""
import csv
import random
import sys
from pathlib import Path

from rdkit import Chem, RDLogger, rdBase
from rdkit.Chem.MolStandardize import rdMolStandardize

RDLogger.DisableLog("rdApp.*")
data = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
out = Path("Tests/ChemistryTests/Fixtures")
random.seed(15)

# Canonical SMILES under atom reordering: fixtures (stereo, charges, salts), the stereo SDF set's
# molecules and the first 200 MOSES molecules.
rows = []
for line in (data / "fixtures/valid.smi").read_text().splitlines():
    f = line.split("\t")
    rows.append((f[1], f[0]))
with open(data / "fixtures/mols_100_stereo_rdkit.tsv") as fh:
    for r in csv.DictReader(fh, delimiter="\t"):
        rows.append((r["id"], r["rdkit_isomeric_smiles"]))
for line in (data / "fixtures/library_sample_1000.smi").read_text().splitlines()[:200]:
    f = line.split()
    rows.append((f[1], f[0]))
with open(out / "canonical_random_smiles.tsv", "w") as fh:
    fh.write("id\trdkit_canonical\trandom1\trandom2\trandom3\n")
    for ident, smiles in rows:
        mol = Chem.MolFromSmiles(smiles)
        # Dummy atoms and dative bonds (RDKit writes `->`, which Winnow's reader does not take) are left out.
        if mol is None or any(a.GetAtomicNum() == 0 for a in mol.GetAtoms()) or \
                any(b.GetBondType() == Chem.BondType.DATIVE for b in mol.GetBonds()):
            continue
        for atom in mol.GetAtoms():  # atom maps are not structure (Winnow's reader drops them)
            atom.SetAtomMapNum(0)
        canonical = Chem.MolToSmiles(mol)
        randoms = []
        for k in range(3):
            order = list(range(mol.GetNumAtoms()))
            random.shuffle(order)
            shuffled = Chem.RenumberAtoms(mol, order)
            randoms.append(Chem.MolToSmiles(shuffled, canonical=False))
        fh.write("\t".join([ident, canonical] + randoms) + "\n")

# Standardiser: every molecule with more than one fragment or a charged atom among the first 6,000
# rows of HIV (ids HIV_<row>, as in descriptors_rdkit_hiv6k.tsv), all of BBBP and the first 2,000
# rows of Tox21 (ids <SET>_<row>, rows counted from 1 after the header).
chooser = rdMolStandardize.LargestFragmentChooser(preferOrganic=True)
uncharger = rdMolStandardize.Uncharger()
picked = []
for name, limit, prefix in [("hiv.csv", 6000, "HIV"), ("bbbp.csv", None, "BBBP"), ("tox21.csv", 2000, "TOX21")]:
    with open(data / "benchmarks" / name) as fh:
        reader = csv.DictReader(fh)
        for i, r in enumerate(reader):
            if limit is not None and i >= limit:
                break
            smiles = r["smiles"]
            if "." not in smiles and "+" not in smiles and "-]" not in smiles:
                continue
            picked.append((f"{prefix}_{i + 1}", smiles))
with open(out / "standardize_rdkit.tsv", "w") as fh:
    fh.write("id\tinput\trdkit_standardized\trdkit_inchikey\n")
    for ident, smiles in picked:
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            continue
        std = uncharger.uncharge(chooser.choose(mol))
        fh.write(f"{ident}\t{smiles}\t{Chem.MolToSmiles(std)}\t{Chem.MolToInchiKey(std)}\n")
print("RDKit", rdBase.rdkitVersion, "rows:", len(rows), len(picked))
