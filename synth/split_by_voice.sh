#!/usr/bin/env bash
# Splits a raw-clip directory (with the manifest.tsv the TTS scripts write) into two by
# voice, so a model can be measured on voices it never heard in training:
#
#   synth/split_by_voice.sh --from DIR --holdout REGEX --train OUT_A --heldout OUT_B [--allow-none]
#
# A clip goes to OUT_B when its base voice (the manifest's voice column up to any "+variant",
# e.g. "festival:cmu_us_slt_arctic_hts" or "espeak-ng:en-gb-scotland") matches the extended
# REGEX, else to OUT_A. Clips are linked, not copied; each side gets its own manifest.tsv.
# It is an error when no clip is held out, unless --allow-none (a small negative set may
# happen to have no clip in the held-out voices).
set -euo pipefail

die() { echo "split_by_voice.sh: $*" >&2; exit 1; }

from="" holdout="" train="" heldout="" allow_none=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --from) from=$2; shift 2 ;;
    --holdout) holdout=$2; shift 2 ;;
    --train) train=$2; shift 2 ;;
    --heldout) heldout=$2; shift 2 ;;
    --allow-none) allow_none=1; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ -n $from && -n $holdout && -n $train && -n $heldout ]] || die "--from, --holdout, --train and --heldout are all required"
[[ -f $from/manifest.tsv ]] || die "'$from' has no manifest.tsv (make it with make_tts_clips.sh)"

from=$(cd "$from" && pwd)
mkdir -p "$train" "$heldout"
header=$(head -n 1 "$from/manifest.tsv")
file_col=$(awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) if($i=="file") print i}' "$from/manifest.tsv")
voice_col=$(awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) if($i=="voice") print i}' "$from/manifest.tsv")
[[ -n $file_col && -n $voice_col ]] || die "'$from/manifest.tsv' lacks a file or voice column"
printf '%s\n' "$header" > "$train/manifest.tsv"
printf '%s\n' "$header" > "$heldout/manifest.tsv"

kept=0 held=0
while IFS= read -r line; do
  file=$(cut -f"$file_col" <<<"$line")
  voice=$(cut -f"$voice_col" <<<"$line")
  base_voice=${voice%%+*}
  if [[ $base_voice =~ $holdout ]]; then side=$heldout; held=$((held + 1)); else side=$train; kept=$((kept + 1)); fi
  mkdir -p "$side/$(dirname "$file")"
  ln -sf "$from/$file" "$side/$file"
  printf '%s\n' "$line" >> "$side/manifest.tsv"
done < <(tail -n +2 "$from/manifest.tsv")
echo "split_by_voice.sh: $kept clips for training, $held held out (voices matching '$holdout')" >&2
[[ $held -gt 0 || $allow_none == 1 ]] || die "no voice matched '$holdout': nothing was held out"
