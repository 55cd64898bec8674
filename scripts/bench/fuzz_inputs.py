#!/usr/bin/env python3
"""Seeded hostile inputs for scripts/bench/fuzz (standard library only).

Writes into OUTDIR:
  fuzz.smi        mutated MOSES lines plus giant and deep molecules, one record per line
  fuzz.sdf        mutated V2000 and V3000 records (and hostile V3000 shapes)
  fuzz.smi.gz     fuzz.smi compressed
  damaged-N.smi.gz  copies of fuzz.smi.gz cut short or with flipped bytes
  bomb.smi.gz     a 4 GiB line of 'C' compressed to a few MB
  giants/NAME.smi single hostile records, timed one by one
  counts.tsv      file<TAB>records as the readers count them
Usage: fuzz_inputs.py OUTDIR MOSES_SMI MOLS_SDF V3000_SDF [SEED] [MUTATED]
"""
import gzip
import os
import random
import sys
import zlib

out, moses_path, sdf_path, v3000_path = sys.argv[1:5]
seed = int(sys.argv[5]) if len(sys.argv) > 5 else 0
mutated_count = int(sys.argv[6]) if len(sys.argv) > 6 else 100_000
rng = random.Random(seed)
os.makedirs(os.path.join(out, "giants"), exist_ok=True)

ALPHABET = b"CNOSPFIBrcnosp[]()=#$:/\\.%+-@*0123456789H"
HOSTILE_ATOMS = [b"[N+0]", b"[NH4+0]", b"[O-0]", b"[C+65535]", b"[C+65536]", b"[C-99999]", b"[Fe+15]",
                 b"[C+16]", b"[99999C]", b"[C@TH9]", b"[*+]", b"[H+2]", b"[C" + b"+" * 20 + b"]"]

moses = [line.split(b"\t")[0].split(b" ")[0] for line in open(moses_path, "rb").read().splitlines() if line.strip()]


def mutate(s: bytes) -> bytes:
    s = bytearray(s)
    for _ in range(rng.randint(1, 3)):
        op = rng.randrange(11)
        i = rng.randrange(len(s) + 1)
        if op == 0 and s:  # any byte but a line end or tab
            s[min(i, len(s) - 1)] = rng.choice([b for b in range(256) if b not in (9, 10, 13)])
        elif op == 1 and s:
            del s[min(i, len(s) - 1)]
        elif op == 2:
            s[i:i] = bytes([rng.choice(ALPHABET)])
        elif op == 3 and s:
            j = rng.randrange(len(s))
            a, b = sorted((i, j))
            s[a:a] = s[a:b] * rng.randint(1, 4)
        elif op == 4 and len(s) > 1:
            j = rng.randrange(len(s))
            k = min(i, len(s) - 1)
            s[k], s[j] = s[j], s[k]
        elif op == 5:
            s[i:i] = rng.choice(HOSTILE_ATOMS)
        elif op == 6:
            s[i:i] = rng.choice([b"1", b"%99", b"(", b")", b"((", b"))", b".", b"=", b"c1", b"-"])
        elif op == 7:
            del s[i:]
        elif op == 8 and s:
            j = rng.randrange(len(s))
            a, b = sorted((i, j))
            s[a:b] = s[a:b][::-1]
        elif op == 9:
            s[i:i] = b"c" * rng.randint(1, 8)
        elif op == 10:
            s[i:i] = bytes([rng.randrange(32, 127)])
    return bytes(s)


def comb(levels: int) -> bytes:
    return b"C(" * levels + b"C" + b")C" * levels


giants = {
    "aromatic_chain_100k": b"c" * 100_000,
    "aromatic_chain_50k": b"c" * 50_000,
    "chain_20k": b"C" * 20_000,
    "chain_10k": b"C" * 10_000,
    "line_of_C_1MB": b"C" * 1_000_000,
    "line_of_C_5MB": b"C" * 5_000_000,
    "branches_10k_deep": b"C(" * 10_000 + b"C" + b")" * 10_000,
    "branches_1000_deep": b"C(" * 1_000 + b"C" + b")" * 1_000,
    "comb_4999": comb(4_999),
    "rings_1001": b".".join([b"C1CC1"] * 1_001),
    "rings_1000": b".".join([b"C1CC1"] * 1_000),
    "iron_hub_5000": b"[Fe]" + b"(C)" * 4_999 + b"C",
    "ring_closure_spam": b"C" + b"1C1" * 3_000,
    "percent_closures": b"C" + b"".join(b"%%%02dC%%%02d" % (k % 100, k % 100) for k in range(3_000)),
    "garbage_100KB": bytes(rng.choice(ALPHABET) for _ in range(100_000)),
    "open_brackets": b"[" * 50_000,
    "open_parens": b"C" + b"(" * 50_000,
    "charge_65535": b"[C+65535]",
    "nh4_plus_zero": b"[NH4+0]",
    "dots_50k": b"C" + b".C" * 50_000,
    "polyene_9999": b"C" + b"=CC" * 4_999,
    "benzene_rings_1600": b"c1ccc(cc1)" * 1_600 + b"C",
}

smi_records = 0
with open(os.path.join(out, "fuzz.smi"), "wb") as f:
    f.write(b"CCO\tstart\n")
    smi_records += 1
    for k in range(mutated_count):
        f.write(mutate(rng.choice(moses)) + b"\tfuzz_%d\n" % k)
        smi_records += 1
    for name, smiles in giants.items():
        f.write(smiles + b"\t" + name.encode() + b"\n")
        smi_records += 1
        with open(os.path.join(out, "giants", name + ".smi"), "wb") as g:
            g.write(smiles + b"\t" + name.encode() + b"\n")

# --- SDF ----------------------------------------------------------------------------------------
def records(path):
    text = open(path, "rb").read()
    return [r for r in text.split(b"$$$$\n") if r.strip()]


def mutate_record(r: bytes) -> bytes:
    lines = r.split(b"\n")
    for _ in range(rng.randint(1, 3)):
        if not lines:
            lines = [b""]
        op = rng.randrange(9)
        i = rng.randrange(len(lines))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2 and lines[i]:
            line = bytearray(lines[i])
            line[rng.randrange(len(line))] = rng.choice([b for b in range(256) if b not in (10, 13)])
            lines[i] = bytes(line)
        elif op == 3 and len(lines) > 3:
            lines[3] = rng.choice([b"999999 V2000", b"abc", b"  -1  3", b"  0  0  0     0  0            999 V3000",
                                   b" 12345678901234567890", lines[3][:5]])
        elif op == 4:
            del lines[i:]
        elif op == 5:
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 6:
            lines.insert(i, rng.choice([b"M  END", b"M  V30 END ATOM", b"M  V30 BEGIN CTAB", b"M  V30 COUNTS abc",
                                        b"M  V30 1 C 0 0 0 0 -", b"M  CHG  8", b"M  ISO  1   1 99999", b"A  1",
                                        b"S  SKP  99999", b"M  V30", b""]))
        elif op == 7:
            lines[i] = lines[i] + b" -"
        elif op == 8:
            lines[i] = lines[i].replace(b"END", b"BEGIN")
    return b"\n".join(lines)


def v3000_chain(atoms: int) -> bytes:
    body = [b"chain_%d" % atoms, b"  Winnow", b"", b"  0  0  0     0  0            999 V3000", b"M  V30 BEGIN CTAB",
            b"M  V30 COUNTS %d %d 0 0 0" % (atoms, atoms - 1), b"M  V30 BEGIN ATOM"]
    body += [b"M  V30 %d C %d.0 0 0 0" % (k + 1, k) for k in range(atoms)]
    body += [b"M  V30 END ATOM", b"M  V30 BEGIN BOND"]
    body += [b"M  V30 %d 1 %d %d" % (k + 1, k + 1, k + 2) for k in range(atoms - 1)]
    body += [b"M  V30 END BOND", b"M  V30 END CTAB", b"M  END", b""]
    return b"\n".join(body)


v2000 = records(sdf_path)
v3000 = records(v3000_path)
hostile_v3000 = [
    b"issue\n  Winnow\n\n  0  0  0     0  0            999 V3000\nM  V30 BEGIN CTAB\nM  V30 COUNTS abc\n"
    b"M  V30 BEGIN ATOM\nM  V30 1 C 0 0 0 0\nM  V30 2 C 0 0 0 0\nM  END\n",
    b"continuations\n  Winnow\n\n  0  0  0     0  0            999 V3000\nM  V30 BEGIN CTAB\nM  V30 COUNTS 1 0 0 0 0\n"
    b"M  V30 BEGIN ATOM\nM  V30 1 C 0 0 0 0 -\n" + b"M  V30 X -\n" * 2_000 + b"M  V30 X\nM  V30 END ATOM\nM  V30 END CTAB\nM  END\n",
    b"nested\n  Winnow\n\n  0  0  0     0  0            999 V3000\n" + b"M  V30 BEGIN CTAB\n" * 5_000 + b"M  END\n",
    v3000_chain(10_000),
    v3000_chain(20_000),
]
sdf_records = 0
with open(os.path.join(out, "fuzz.sdf"), "wb") as f:
    for k in range(6_000):
        source = rng.choice(v2000 if k % 3 else v3000)
        record = mutate_record(source) if k % 10 else source
        f.write(record.rstrip(b"\n") + b"\n$$$$\n")
    for record in hostile_v3000:
        f.write(record.rstrip(b"\n") + b"\n$$$$\n")
    for k, record in enumerate(hostile_v3000):
        with open(os.path.join(out, "giants", "sdf_%d.sdf" % k), "wb") as g:
            g.write(record)
# Count records the way the reader splits them: one per line starting with $$$$, plus a last one
# without $$$$ when it holds anything but blanks.
text = open(os.path.join(out, "fuzz.sdf"), "rb").read()
tail = b""
for line in text.split(b"\n"):
    if line.startswith(b"$$$$"):
        sdf_records += 1
        tail = b""
    else:
        tail += line
if tail.strip(b" \t\n"):
    sdf_records += 1

# --- gzip: the library compressed, damaged copies, a bomb ----------------------------------------
raw = open(os.path.join(out, "fuzz.smi"), "rb").read()
packed = gzip.compress(raw, compresslevel=6)
open(os.path.join(out, "fuzz.smi.gz"), "wb").write(packed)
for k in range(10):
    damaged = bytearray(packed)
    if k < 5:
        damaged = damaged[: rng.randrange(100, len(damaged) - 100)]
    else:
        for _ in range(k - 4):
            damaged[rng.randrange(20, len(damaged) - 20)] ^= 1 << rng.randrange(8)
    open(os.path.join(out, "damaged-%d.smi.gz" % k), "wb").write(bytes(damaged))
bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
with open(os.path.join(out, "bomb.smi.gz"), "wb") as f:
    block = b"C" * (1 << 20)
    for _ in range(4096):
        f.write(bomb.compress(block))
    f.write(bomb.compress(b"\tbomb\nCCO\tafter_the_bomb\n"))
    f.write(bomb.flush())

with open(os.path.join(out, "counts.tsv"), "w") as f:
    f.write("fuzz.smi\t%d\nfuzz.sdf\t%d\nbomb.smi.gz\t2\n" % (smi_records, sdf_records))
