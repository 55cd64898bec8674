"""FPSim2 side of scripts/bench/search (run inside the benchmark's venv).

build DB_SMI DB_H5            -> builds FPSim2's database (Morgan r2/2048), prints seconds
search DB_H5 QUERIES OUT_DIR  -> top-100 (threshold 0) and threshold 0.7 for 10 queries at 1 and 2
                                 workers; prints one line per run: mode workers seconds queries/s;
                                 writes the hit lists as query_id,rank,hit_id,similarity
compare WINNOW_CSV FPSIM2_CSV MODE -> whether two hit lists agree (same ids and 4-decimal similarities,
                                 beyond ties at the k-th place for top-k)
"""
import csv
import sys
import time
import resource


def build(smi, h5):
    import os
    from FPSim2.io import create_db_file
    start = time.perf_counter()
    # Built under another name and renamed, so an interrupted build never looks like a cached one.
    create_db_file(smi, h5 + ".part", "smiles", "Morgan", {"radius": 2, "fpSize": 2048})
    os.replace(h5 + ".part", h5)
    print(f"seconds {time.perf_counter() - start:.2f}")
    print(f"peak_rss_mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


def read_queries(path):
    out = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2:
                out.append((parts[0], parts[1]))
    return out


def search(h5, queries_path, out_dir, repeats):
    from FPSim2 import FPSim2Engine
    start = time.perf_counter()
    engine = FPSim2Engine(h5)
    print(f"load_seconds {time.perf_counter() - start:.2f}")
    queries = read_queries(queries_path)
    for mode in ("top100", "t0.7"):
        for workers in (1, 2):
            best = None
            for _ in range(repeats):
                start = time.perf_counter()
                results = []
                for smiles, _ in queries:
                    if mode == "top100":
                        results.append(engine.top_k(smiles, k=100, threshold=0.0, n_workers=workers))
                    else:
                        results.append(engine.similarity(smiles, 0.7, n_workers=workers))
                seconds = time.perf_counter() - start
                best = seconds if best is None else min(best, seconds)
            print(f"run {mode} {workers} {best:.4f} {len(queries) / best:.1f}")
            with open(f"{out_dir}/fpsim2_{mode}_{workers}.csv", "w") as f:
                f.write("query_id,rank,hit_id,similarity\n")
                for (smiles, qid), hits in zip(queries, results):
                    for rank, hit in enumerate(hits):
                        f.write(f"{qid},{rank + 1},MOSES_{int(hit['mol_id']):07d},{float(hit['coeff']):.4f}\n")
    print(f"peak_rss_mb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")


def load_hits(path):
    hits = {}
    with open(path) as f:
        reader = csv.DictReader(f)
        for row in reader:
            hits.setdefault(row["query_id"], []).append((row["hit_id"], row["similarity"]))
    return hits


def compare(winnow_csv, fpsim2_csv, mode):
    w, f = load_hits(winnow_csv), load_hits(fpsim2_csv)
    problems = []
    for q in sorted(set(w) | set(f)):
        a, b = w.get(q, []), f.get(q, [])
        if mode == "top":
            if len(a) != len(b):
                problems.append(f"{q}: {len(a)} vs {len(b)} hits")
                continue
            if [s for _, s in a] != [s for _, s in b]:
                problems.append(f"{q}: similarities differ")
                continue
            if a:
                last = a[-1][1]
                if {i for i, s in a if s != last} != {i for i, s in b if s != last}:
                    problems.append(f"{q}: ids above the k-th similarity differ")
        else:
            if sorted(a) != sorted(b):
                problems.append(f"{q}: {len(set(a) ^ set(b))} hits differ ({len(a)} vs {len(b)})")
    total = sum(len(v) for v in w.values())
    if problems:
        print(f"DIFFER ({len(problems)} queries; {total} winnow hits): " + "; ".join(problems[:3]))
    else:
        print(f"agree ({total} hits)")


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "build":
        build(sys.argv[2], sys.argv[3])
    elif command == "search":
        search(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 3)
    elif command == "compare":
        compare(sys.argv[2], sys.argv[3], sys.argv[4])
