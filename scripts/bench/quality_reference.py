"""Reference forest for scripts/bench/quality: scikit-learn RandomForestClassifier (500 trees,
class_weight="balanced") on RDKit Morgan r2/2048 bits, trained on the train + validation rows of the
split Winnow used, scored on its test rows with Winnow's metric definitions.

Usage: quality_reference.py DATA.csv LABEL_COLUMN SPLIT.csv SEED [BITS.fps]
SPLIT.csv holds `row,part` (1-based data rows, as `winnow train --save-split` writes it).
BITS.fps (optional): the fingerprints to train and test on instead of RDKit's of the file's SMILES,
in FPS with ids `record N` (N the 1-based data row, as `winnow fingerprint` names CSV rows): the same
forest on exactly the molecules Winnow read (e.g. standardised), to compare the models alone.
Prints one JSON object: test.roc_auc, test.prc_auc, test.ef1, test.bedroc20, training_seconds.
"""
import csv
import json
import math
import sys
import time

import numpy as np
from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import rdFingerprintGenerator
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import average_precision_score, roc_auc_score

RDLogger.DisableLog("rdApp.*")
path, column, split_path, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with open(split_path, newline="") as handle:
    part = {int(r["row"]): r["part"] for r in csv.DictReader(handle)}
with open(path, newline="") as handle:
    rows = list(csv.DictReader(handle))
generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
given = {}
if len(sys.argv) > 5:
    with open(sys.argv[5]) as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            hexbits, name = line.rstrip("\n").split("\t", 1)
            given[name] = np.unpackbits(np.frombuffer(bytes.fromhex(hexbits), dtype=np.uint8), bitorder="little")
X, y, parts = [], [], []
for number, row in enumerate(rows, start=1):
    if number not in part or row[column] == "":
        continue
    if len(sys.argv) > 5:
        bits = given.get(f"record {number}")
        if bits is None:
            continue
    else:
        molecule = Chem.MolFromSmiles(row["smiles"])
        if molecule is None:
            continue
        bits = np.zeros(2048, dtype=np.uint8)
        DataStructs.ConvertToNumpyArray(generator.GetFingerprint(molecule), bits)
    X.append(bits)
    y.append(int(float(row[column]) > 0.5))
    parts.append(part[number])
X, y, parts = np.array(X), np.array(y), np.array(parts)
train, test = parts != "test", parts == "test"
started = time.time()
forest = RandomForestClassifier(500, class_weight="balanced", n_jobs=2, random_state=seed).fit(X[train], y[train])
seconds = time.time() - started
scores = forest.predict_proba(X[test])[:, 1]
labels = y[test]


def ranked(scores):  # descending, ties in input order (as Winnow's Metrics)
    return np.argsort(-scores, kind="stable")


def enrichment(scores, labels, fraction):
    n, actives = len(scores), labels.sum()
    top = min(n, max(1, math.ceil(fraction * n * (1 - 1e-12))))
    return (labels[ranked(scores)[:top]].sum() / top) / (actives / n)


def bedroc(scores, labels, alpha=20.0):
    n, actives = len(scores), labels.sum()
    ratio = actives / n
    positions = np.nonzero(labels[ranked(scores)])[0] + 1
    rie = np.exp(-alpha * positions / n).sum() / (ratio * (1 - math.exp(-alpha)) / math.expm1(alpha / n))
    rie_max = (1 - math.exp(-alpha * ratio)) / (ratio * (1 - math.exp(-alpha)))
    rie_min = (1 - math.exp(alpha * ratio)) / (ratio * (1 - math.exp(alpha)))
    return (rie - rie_min) / (rie_max - rie_min)


print(json.dumps({"test.roc_auc": roc_auc_score(labels, scores), "test.prc_auc": average_precision_score(labels, scores),
                  "test.ef1": enrichment(scores, labels, 0.01), "test.bedroc20": bedroc(scores, labels),
                  "training_seconds": seconds}))
