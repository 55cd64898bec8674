"""RandomForest reference for scripts/bench/active-learning (scikit-learn + RDKit, same protocol).

Usage: rf_active_learning.py DATA.csv LABEL_COLUMN greedy|random
Random 1% initial set, 9 rounds of 1%, 200 trees on Morgan r2/2048 bits, mean recall of seeds 0-2.
"""
import csv
import sys
import time

import numpy as np
from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import rdFingerprintGenerator
from sklearn.ensemble import RandomForestClassifier

RDLogger.DisableLog("rdApp.*")
path, column, acquisition = sys.argv[1:4]
started = time.time()
with open(path, newline="") as handle:
    rows = list(csv.DictReader(handle))
generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
features, labels = [], []
for row in rows:
    molecule = Chem.MolFromSmiles(row["smiles"])
    if molecule is None:
        continue
    bits = np.zeros(2048, dtype=np.uint8)
    DataStructs.ConvertToNumpyArray(generator.GetFingerprint(molecule), bits)
    features.append(bits)
    labels.append(int(float(row[column]) > 0.5))
X, y = np.array(features), np.array(labels)
n = len(y)
step = round(0.01 * n)
curves = []
for seed in range(3):
    rng = np.random.default_rng(seed)
    labelled = np.zeros(n, bool)
    labelled[rng.permutation(n)[:step]] = True
    curve = [y[labelled].sum() / y.sum()]
    for _ in range(9):
        pool = np.where(~labelled)[0]
        train = np.where(labelled)[0]
        if acquisition == "greedy" and 0 < y[train].sum() < len(train):
            forest = RandomForestClassifier(200, n_jobs=2, random_state=seed).fit(X[train], y[train])
            score = forest.predict_proba(X[pool])[:, 1]
        else:
            score = rng.random(len(pool))
        labelled[pool[np.argsort(-score, kind="stable")[:step]]] = True
        curve.append(y[labelled].sum() / y.sum())
    curves.append(curve)
mean = np.mean(curves, axis=0)
print(f"RF     {acquisition:12s} recall " + " ".join(f"{x:.3f}" for x in mean)
      + f"  | final {mean[-1]:.3f} per seed {[round(float(c[-1]), 3) for c in curves]} | {time.time() - started:.0f} s wall")
