#!/usr/bin/env bash
# Synthesize one dataset as a Slurm job array: task i of N runs `earshot synth --shard i/N`,
# a dependent job merges the manifests. Every clip depends only on (seed, index), so the
# result is byte-identical to a single-machine run with the same flags.
#
#   sbatch --array=0-15 synth/examples/slurm_array.sh            # 16 shards
#   sbatch --dependency=afterok:<array job id> --wrap \
#     "build/earshot synth --merge --out /scratch/activate-v1"   # then merge
#
# The raw material (TTS clips, negatives, real speech and noise) must be on a filesystem
# every node sees; each task writes its own clips and manifest.shard-i-of-N.jsonl under OUT.
#SBATCH --job-name=earshot-synth
#SBATCH --cpus-per-task=2
#SBATCH --mem=4G
#SBATCH --time=01:00:00
#SBATCH --output=logs/synth-%A_%a.log
set -euo pipefail

: "${SLURM_ARRAY_TASK_ID:?run this through sbatch --array=0-(N-1)}"
: "${SLURM_ARRAY_TASK_COUNT:?run this through sbatch --array=0-(N-1)}"

earshot=${EARSHOT:-build/earshot}
raw=${RAW:-/scratch/earshot-raw}  # made by synth/make_tts_clips.sh and friends
out=${OUT:-/scratch/activate-v1}

"$earshot" synth \
  --triggers "$raw/tts_activate" \
  --negatives "$raw/negatives/near_miss:2" \
  --negatives "$raw/negatives/generic" \
  --negatives "$raw/real/speech" \
  --backgrounds "$raw/real/backgrounds" \
  --count 100000 --seed 2024 \
  --shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" \
  --threads "${SLURM_CPUS_PER_TASK:-2}" \
  --out "$out"
