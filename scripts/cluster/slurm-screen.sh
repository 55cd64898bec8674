#!/usr/bin/env bash
# Slurm job array: each array task screens one shard of the library with the same binary; a final
# `winnow merge` combines the shard hit lists into the single-machine result.
#
#   sbatch --array=1-16 scripts/cluster/slurm-screen.sh MODEL LIBRARY OUTDIR
#   # when all tasks are done:
#   winnow merge OUTDIR/hits-*.csv --top 1000 -o OUTDIR/hits.csv
#
# Each task checkpoints into OUTDIR/checkpoint-K, so a preempted or requeued task resumes where it
# stopped (`--requeue` is safe).
#SBATCH --job-name=winnow-screen
#SBATCH --cpus-per-task=2
#SBATCH --mem=2G
#SBATCH --time=02:00:00
#SBATCH --requeue
#SBATCH --output=winnow-screen-%A_%a.log
set -euo pipefail
MODEL=${1:?usage: slurm-screen.sh MODEL LIBRARY OUTDIR}
LIBRARY=${2:?usage: slurm-screen.sh MODEL LIBRARY OUTDIR}
OUTDIR=${3:?usage: slurm-screen.sh MODEL LIBRARY OUTDIR}
WINNOW=${WINNOW:-winnow}
K=${SLURM_ARRAY_TASK_ID:?run this script as a Slurm job array (sbatch --array=1-N)}
N=${SLURM_ARRAY_TASK_COUNT:?run this script as a Slurm job array (sbatch --array=1-N)}
mkdir -p "$OUTDIR"
RESUME=()
[[ -f "$OUTDIR/checkpoint-$K/screen.checkpoint.json" ]] && RESUME=(--resume)
exec "$WINNOW" screen --model "$MODEL" --library "$LIBRARY" --shard "$K/$N" --top "${TOP:-1000}" \
    --threads "${SLURM_CPUS_PER_TASK:-2}" --checkpoint "$OUTDIR/checkpoint-$K" "${RESUME[@]}" \
    -o "$OUTDIR/hits-$K.csv" --errors "$OUTDIR/errors-$K.tsv" --quiet
