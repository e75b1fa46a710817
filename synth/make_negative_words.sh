#!/usr/bin/env bash
# Negative words for a trigger, spoken by the SAME TTS voices and settings as the trigger:
#   DIR/near_miss/   words that sound like the trigger ("activity", "captivate", "at the gate")
#   DIR/generic/     everyday words and phrases (synth/negative_words.txt)
# each with its manifest.tsv (make_tts_clips.sh format).
#
#   synth/make_negative_words.sh --word activate --out DIR [--variants N] [--seed S]
#       [--near-miss "a,b,c" | --near-miss-file FILE] [--generic-file FILE]
#       [--near-miss-per-word K] [--generic-per-word K] [--jobs J] [--engines LIST] [--force]
#
# Why: if real people only ever say negatives and TTS voices only ever say the trigger, the
# cheapest rule a network can learn is "synthetic voice = trigger". With the same voices
# saying both, the word itself is the only cue. Use the --variants and --seed given to
# make_tts_clips.sh for the trigger: the voice plan is then identical.
#
# Near misses for "activate" are built in; for another word pass --near-miss or
# --near-miss-file (one per line). Near misses get more renditions (default 12 each) than
# generic words (default 2 each): they are the hard cases.
set -euo pipefail

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}
die() {
  echo "make_negative_words.sh: $*" >&2
  exit 1
}

here=$(cd "$(dirname "$0")" && pwd)
word="" out="" variants=20 seed=1 near_miss="" near_miss_file="" generic_file="$here/negative_words.txt"
near_per_word=12 generic_per_word=2 passthrough=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --word) word=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --near-miss) near_miss=$2; shift 2 ;;
    --near-miss-file) near_miss_file=$2; shift 2 ;;
    --generic-file) generic_file=$2; shift 2 ;;
    --near-miss-per-word) near_per_word=$2; shift 2 ;;
    --generic-per-word) generic_per_word=$2; shift 2 ;;
    --jobs | --engines) passthrough+=("$1" "$2"); shift 2 ;;
    --force) passthrough+=("$1"); shift ;;
    -h | --help) usage ;;
    *) echo "make_negative_words.sh: unknown option '$1'" >&2; usage ;;
  esac
done
[[ -n $word && -n $out ]] || { echo "make_negative_words.sh: --word and --out are required" >&2; usage; }
[[ -r $generic_file ]] || die "cannot read generic word list '$generic_file'"

# Near misses: shared sounds at the start ("act-", "acti-"), the end ("-vate", "-ate"),
# the rhythm (three syllables, stress first), and phrases that run together like it.
# Never words that contain the whole trigger ("deactivate", "activated", "activator") or
# sound the same ("active eight"): a detector that fires as the word ends has heard the
# trigger in them, so as negatives they would contradict the positive labels in training
# and count as false accepts in evaluation.
builtin_near_misses() {
  case $1 in
    activate)
      printf '%s\n' activity active activation captivate motivate vacation elevate actually \
        cultivate activist "act of" "at the gate" "actor" "action" "accurate" \
        "aggravate" "acrobat" "activities" "captivated" "cultivate it" "activ" "ask a mate" \
        "that's a date" "active state" "navigate" "agitate" "activism" "at a rate"
      ;;
  esac
}

mkdir -p "$out"
near_list="$out/near_miss_words.txt"
if [[ -n $near_miss_file ]]; then
  [[ -r $near_miss_file ]] || die "cannot read near-miss file '$near_miss_file'"
  cp "$near_miss_file" "$near_list"
elif [[ -n $near_miss ]]; then
  tr ',' '\n' <<<"$near_miss" >"$near_list"
else
  builtin_near_misses "$word" >"$near_list"
fi
[[ -s $near_list ]] || die "no near misses known for '$word': pass --near-miss \"a,b,c\" or --near-miss-file FILE"

# The trigger must never be a negative, alone or inside a longer word or phrase
# ("computers", "the computer"): see builtin_near_misses.
generic_list="$out/generic_words.txt"
for list in "$generic_file:$generic_list" "$near_list:$near_list.kept"; do
  from=${list%%:*} to=${list#*:}
  grep -v -i -F "$word" "$from" >"$to" || true
  dropped=$(grep -i -F "$word" "$from" | paste -s -d ',' || true)
  [[ -z $dropped ]] || echo "make_negative_words.sh: not a negative (contains '$word'): $dropped" >&2
done
mv "$near_list.kept" "$near_list"

start_s=$SECONDS
common=(--variants "$variants" --seed "$seed" "${passthrough[@]}")
"$here/make_tts_clips.sh" --text-file "$near_list" --per-text "$near_per_word" --out "$out/near_miss" "${common[@]}"
"$here/make_tts_clips.sh" --text-file "$generic_list" --per-text "$generic_per_word" --out "$out/generic" "${common[@]}"
near=$(($(wc -l <"$out/near_miss/manifest.tsv") - 1))
generic=$(($(wc -l <"$out/generic/manifest.tsv") - 1))
echo "make_negative_words.sh: $near near-miss and $generic generic clips in $out ($((SECONDS - start_s)) s)" >&2
