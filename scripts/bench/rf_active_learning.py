"""RandomForest reference for scripts/bench/active-learning (scikit-learn + RDKit, same protocol).

Usage: rf_active_learning.py DATA.csv[.gz] LABEL_COLUMN greedy|random [--rounds N] [--trees N] [--minimize]
Random 1% initial set, N rounds of 1% (default 9), a forest on Morgan r2/2048 bits, mean recall of
seeds 0-2. 0/1 labels: RandomForestClassifier (default 200 trees), recall of the actives. Numeric
labels: RandomForestRegressor (default 100 trees, scikit-learn's defaults: every feature tried at each
split), recall of the best 1% (the lowest with --minimize), as in MolPAL's benchmark.
"""
import argparse
import csv
import gzip
import time

import numpy as np
from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import rdFingerprintGenerator
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

RDLogger.DisableLog("rdApp.*")
parser = argparse.ArgumentParser()
parser.add_argument("path")
parser.add_argument("column")
parser.add_argument("acquisition", choices=["greedy", "random"])
parser.add_argument("--rounds", type=int, default=9)
parser.add_argument("--trees", type=int)
parser.add_argument("--minimize", action="store_true")
parser.add_argument("--counts", action="store_true", help="Morgan count fingerprints instead of bits")
args = parser.parse_args()
started = time.time()
opener = gzip.open if args.path.endswith(".gz") else open
with opener(args.path, "rt", newline="") as handle:
    rows = list(csv.DictReader(handle))
generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
features, values = [], []
for row in rows:
    molecule = Chem.MolFromSmiles(row["smiles"])
    if molecule is None or row[args.column] == "":
        continue
    if args.counts:
        features.append(generator.GetCountFingerprintAsNumPy(molecule).astype(np.uint8))
    else:
        bits = np.zeros(2048, dtype=np.uint8)
        DataStructs.ConvertToNumpyArray(generator.GetFingerprint(molecule), bits)
        features.append(bits)
    values.append(float(row[args.column]))
X, v = np.array(features), np.array(values)
n = len(v)
classification = set(np.unique(v)) <= {0.0, 1.0}
if classification:
    hits = v > 0.5
    y = hits.astype(int)
else:
    # Higher is better inside: negate for --minimize. The hits are the best n // 100 values.
    y = -v if args.minimize else v
    hits = np.zeros(n, bool)
    hits[np.argsort(-y, kind="stable")[: max(1, n // 100)]] = True
trees = args.trees or (200 if classification else 100)
step = round(0.01 * n)
curves = []
for seed in range(3):
    rng = np.random.default_rng(seed)
    labelled = np.zeros(n, bool)
    labelled[rng.permutation(n)[:step]] = True
    curve = [hits[labelled].sum() / hits.sum()]
    for _ in range(args.rounds):
        pool = np.where(~labelled)[0]
        train = np.where(labelled)[0]
        if args.acquisition == "greedy" and not classification:
            forest = RandomForestRegressor(trees, n_jobs=2, random_state=seed).fit(X[train], y[train])
            score = forest.predict(X[pool])
        elif args.acquisition == "greedy" and 0 < y[train].sum() < len(train):
            forest = RandomForestClassifier(trees, n_jobs=2, random_state=seed).fit(X[train], y[train])
            score = forest.predict_proba(X[pool])[:, 1]
        else:
            score = rng.random(len(pool))
        labelled[pool[np.argsort(-score, kind="stable")[:step]]] = True
        curve.append(hits[labelled].sum() / hits.sum())
    curves.append(curve)
mean = np.mean(curves, axis=0)
kind = f"RF{'C' if classification else 'R'}{trees}{' counts' if args.counts else ''}"
print(f"{kind:6s} {args.acquisition:12s} recall " + " ".join(f"{x:.3f}" for x in mean)
      + f"  | final {mean[-1]:.3f} per seed {[round(float(c[-1]), 3) for c in curves]} | {time.time() - started:.0f} s wall")
