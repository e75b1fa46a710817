#!/usr/bin/env bash
# Real people's recordings of a word, made into trigger clips like the TTS ones: each file
# becomes a 16 kHz mono 16-bit WAV, peak-normalised, with the silence trimmed at both ends so
# that the word ends where the clip ends (synth puts the label right after a clip's end).
#
#   synth/prepare_recordings.sh --from DIR --out DIR --text WORD [--trim-db D] [--max-seconds S]
#       [--force]
#
# DIR holds one folder per speaker (DIR/alice/1.wav, DIR/bob/take2.flac, ...; any format sox
# reads, any sample rate or channel count); a file directly in DIR counts as speaker
# "unknown", and deeper folders are not read. OUT gets the clips and a manifest.tsv whose voice column is
# "recording:SPEAKER", so split_by_voice.sh can hold whole speakers out for evaluation
# (--holdout '^recording:(alice|bob)$') and make_pseudo_speakers.sh can re-voice them. Use
# the OUT folder as `earshot synth --triggers OUT`.
#
# Why these steps: real takes differ in level and in how much silence surrounds the word, and
# a clip that ends long after the word would teach the model to fire late.
#   --trim-db D       trim what stays more than D dB below the recording's peak (default 35);
#                     lower it for a noisy room whose background is closer to the speech
#   --max-seconds S   refuse a trimmed clip longer than S seconds (default 3): its background
#                     kept the trim from finding the word's edges
#   --force           replace the clips and manifest of an earlier run in OUT
#
# A file that cannot be read, is silent, or is too long after trimming is reported and
# skipped; the others are still written. Exit status: 0 when every file became a clip, 1 when
# some were skipped (the manifest lists those written), 2 for bad arguments. Deterministic:
# the same files give the same bytes.
set -euo pipefail

die() {
  echo "prepare_recordings.sh: $*" >&2
  exit 2
}

from="" out="" text="" trim_db=35 max_seconds=3 force=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --from) from=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --text) text=$2; shift 2 ;;
    --trim-db) trim_db=$2; shift 2 ;;
    --max-seconds) max_seconds=$2; shift 2 ;;
    --force) force=1; shift ;;
    -h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ -n $from && -n $out && -n $text ]] || die "--from, --out and --text are all required"
[[ -d $from ]] || die "no folder '$from'"
[[ $trim_db =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--trim-db must be a positive number of dB, got '$trim_db'"
[[ $max_seconds =~ ^[0-9]+([.][0-9]+)?$ ]] || die "--max-seconds must be a positive number, got '$max_seconds'"
[[ $text != *$'\t'* && $text != *$'\n'* ]] || die "--text must be one line without tabs"
command -v sox >/dev/null || die "sox is not installed (apt-get install sox libsox-fmt-all)"
from=$(realpath "$from")
out=$(realpath -m "$out")
# OUT inside FROM would be read back as one more speaker's takes.
[[ $out != "$from" && $out != "$from"/* ]] || die "--out must not be inside --from"
mkdir -p "$out"
if [[ -f $out/manifest.tsv ]]; then
  ((force)) || die "'$out' holds an earlier run (its manifest.tsv); pass --force to replace it"
  find "$out" -maxdepth 1 -name '*_recording_*.wav' -delete
  rm -f "$out/manifest.tsv"
fi

# A name safe in a file name and a manifest cell: letters, digits, '-' and '_' only.
safe_name() { tr -c 'A-Za-z0-9_-' '_' <<<"$1" | sed 's/_$//'; }

# Every file under DIR, one speaker folder deep, in a fixed order (speaker, then file).
list_recordings() {
  find "$from" -mindepth 1 -maxdepth 2 -type f ! -name '.*' -print0 | LC_ALL=C sort -z
}

# Names a take that became no clip, and removes what sox wrote for it.
skip() { # path, clip, why
  echo "prepare_recordings.sh: skipped '$1': $3" >&2
  rm -f "$2"
  skipped=$((skipped + 1))
}

manifest="$out/manifest.tsv"
printf 'file\ttext\tengine\tvoice\tpitch\tspeed\n' >"$manifest.tmp"
written=0 skipped=0
while IFS= read -r -d '' path; do
  relative=${path#"$from"/}
  speaker=unknown
  [[ $relative == */* ]] && speaker=$(safe_name "${relative%%/*}")
  stem=$(basename "${path%.*}")
  name=$(printf '%06d_recording_%s_%s.wav' "$written" "$speaker" "$(safe_name "$stem")")
  clip="$out/$name"
  # Resample before normalising, or the resampler's ringing can clip the peak; normalise
  # before trimming, so the trim threshold is relative to this take's peak.
  if ! error=$(sox -R -q "$path" -r 16000 -c 1 -b 16 "$clip" channels 1 rate 16000 gain -n -1 \
    silence 1 0.01 "-${trim_db}d" reverse silence 1 0.01 "-${trim_db}d" reverse \
    pad 0.005 0.005 2>&1); then
    skip "$path" "$clip" "sox cannot read it: ${error//$'\n'/ }"
    continue
  fi
  samples=$(soxi -s "$clip" 2>/dev/null || echo 0)
  take_samples=$(awk -v d="$(soxi -D "$path" 2>/dev/null)" 'BEGIN { printf "%d", d * 16000 }')
  # Under 100 ms is no word: the take was digital silence.
  if ((samples < 1600)); then
    skip "$path" "$clip" silent
    continue
  fi
  # Less than 20 ms trimmed in all: nothing in the take is quiet enough to be the silence
  # around a word, so its edges are unknown (a take of room noise only looks like this too).
  trimmed_away=$((take_samples - (samples - 160))) # the 10 ms of padding does not count
  if ((trimmed_away < 320)); then
    skip "$path" "$clip" "no stretch $trim_db dB below its peak before or after the word (a take of background only, or a background too loud: try a smaller --trim-db)"
    continue
  fi
  if awk -v n="$samples" -v max="$max_seconds" 'BEGIN { exit !(n / 16000 > max) }'; then
    skip "$path" "$clip" "$(awk -v n="$samples" 'BEGIN { printf "%.1f", n / 16000 }') s after trimming, over --max-seconds $max_seconds (a background within $trim_db dB of the speech? try a smaller --trim-db)"
    continue
  fi
  printf '%s\t%s\trecording\trecording:%s\t0\t1.0\n' "$name" "$text" "$speaker" >>"$manifest.tmp"
  written=$((written + 1))
done < <(list_recordings)
mv "$manifest.tmp" "$manifest"

echo "prepare_recordings.sh: wrote $written clips and $manifest; skipped $skipped" >&2
((written > 0)) || exit 1
((skipped == 0)) || exit 1
