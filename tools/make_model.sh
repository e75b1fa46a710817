#!/usr/bin/env bash
# From a word to a model, on this machine's CPU, with nothing but Debian packages:
#
#   tools/make_model.sh WORD --out MODEL.earshot [--work DIR] [--seed S] [--tiny]
#       [--variants N] [--clips N] [--epochs N] [--networks N] [--gru SIZES] [--target-fa-per-hour F]
#       [--near-miss "a,b,c"] [--pronunciations "a,b,c"] [--holdout REGEX] [--shared DIR]
#       [--recordings DIR] [--recordings-holdout REGEX]
#
# Steps (each prints "[k/8] ..."):
#   1. install the packages and build earshot
#   2. WORD spoken by every TTS voice (synth/make_tts_clips.sh); with --pronunciations, also
#      respellings of it that the voices say the way people do ("actavate", "ak-tiv-ate" for
#      activate): as many clips again, trained as the word (with them, networks found half the
#      words of a natural voice they never heard; models/EXPERIMENTS.md, tenth session); with
#      --recordings DIR, real people's takes of it, one folder per speaker
#      (synth/prepare_recordings.sh; a take it cannot use is named and skipped)
#   3. near-miss and generic negative words in the same voices (synth/make_negative_words.sh)
#   4. real speech, noise and sound events (synth/gather_real_material.sh, from ../shared/data
#      and Debian packages; the events join the training negatives)
#   5. hold out whole voices (default: festival slt-HTS, flite rms, espeak-ng en-gb-scotland),
#      four real speech sets and one real noise family for evaluation; of the recorded
#      speakers, those whose folder name matches --recordings-holdout (an extended regex,
#      e.g. 'alice|bob'; default: the last quarter by name, at least one when there are two
#      or more), so the evaluation hears real voices it never trained on
#   6. re-voice the training voices' clips as new speakers (synth/make_pseudo_speakers.sh) and
#      synthesize the training clips (earshot synth)
#   7. train (earshot train); with --networks N > 1, N networks from seeds S, S+1, ... averaged
#      into one model (earshot ensemble): steadier, N times the training time, and about
#      1 + (N-1)/3 times the running cost of one network (the front end is shared);
#      --gru SIZES sets the recurrent layers (default earshot train's 64,64; 96,96 is the shipped
#      activate model's shape, which beat two 64,64 networks averaged on its 50 hours of clips)
#   8. evaluate on the held-out voices, speech and noise at 10 dB (earshot eval), set the
#      default threshold to the one meeting --target-fa-per-hour (default 0.5), and write
#      MODEL and a model card MODEL.md next to it
# EARSHOT_BINARY=PATH in the environment uses that earshot instead of building one.
# --tiny runs a few-minute version of every step (for CI; the model is not useful).
# Work files go to --work DIR (default: a directory next to MODEL); finished steps are kept,
# so an interrupted run can be repeated.
set -euo pipefail

die() { echo "make_model.sh: $*" >&2; exit 2; }
step() { echo "[$1/8] $2 ($(date +%H:%M:%S))" >&2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=synth/lib_heldout.sh
source "$repo/synth/lib_heldout.sh"
word="" out="" work="" seed=1 tiny=0 variants=30 clips=3000 epochs=30 networks=1 target_fa=0.5
gru=""
near_miss="" pronunciations="" shared="$repo/../shared/data" recordings="" recordings_holdout=""
holdout='^(festival:cmu_us_slt_arctic_hts|flite:rms|espeak-ng:en-gb-scotland)$'
while [[ $# -gt 0 ]]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --tiny) tiny=1; shift ;;
    --variants) variants=$2; shift 2 ;;
    --clips) clips=$2; shift 2 ;;
    --epochs) epochs=$2; shift 2 ;;
    --networks) networks=$2; shift 2 ;;
    --gru) gru=$2; shift 2 ;;
    --target-fa-per-hour) target_fa=$2; shift 2 ;;
    --near-miss) near_miss=$2; shift 2 ;;
    --pronunciations) pronunciations=$2; shift 2 ;;
    --holdout) holdout=$2; shift 2 ;;
    --shared) shared=$2; shift 2 ;;
    --recordings) recordings=$2; shift 2 ;;
    --recordings-holdout) recordings_holdout=$2; shift 2 ;;
    -h|--help) sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option '$1' (see --help)" ;;
    *) [[ -z $word ]] || die "one word or phrase only (quote a phrase)"; word=$1; shift ;;
  esac
done
[[ -n $word ]] || die "give the word or phrase, e.g. tools/make_model.sh computer --out models/computer.earshot"
[[ -n $out ]] || die "--out MODEL.earshot is required"
[[ $networks =~ ^[1-9][0-9]*$ ]] || die "--networks takes a whole number from 1, got '$networks'"
[[ -z $gru || $gru =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] ||
  die "--gru takes layer sizes separated by commas, e.g. 96,96, got '$gru'"
[[ -z $recordings || -d $recordings ]] || die "--recordings: no folder '$recordings'"
[[ -z $recordings_holdout || -n $recordings ]] || die "--recordings-holdout needs --recordings"
[[ -z $recordings ]] || recordings=$(cd "$recordings" && pwd)
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
work=${work:-${out%.earshot}.work}
mkdir -p "$work"
work=$(cd "$work" && pwd)

tts_args=(--variants "$variants" --seed "$seed")
negative_args=()
real_args=(--shared "$shared" --seed "$seed")
# The time warp made networks hear voices they never heard (models/EXPERIMENTS.md, seventh session).
train_args=(--epochs "$epochs" --time-warp 0.3)
eval_hours=1
if [[ $tiny == 1 ]]; then
  clips=40
  tts_args=(--variants 2 --seed "$seed" --engines espeak-ng)
  head -n 20 "$repo/synth/negative_words.txt" > "$work/generic_words_tiny.txt"
  negative_args=(--near-miss-per-word 1 --generic-per-word 1 --generic-file "$work/generic_words_tiny.txt")
  real_args+=(--max-per-set 4 --babble 2)
  train_args=(--epochs 2 --batch 8 --conv-filters 8 --time-warp 0.3)
  gru=${gru:-8}
  eval_hours=0.02
fi
if [[ -n $gru ]]; then train_args+=(--gru "$gru"); fi
# Words without a built-in near-miss list get forms of the word that do not contain it
# whole (those would be detections, not confusions): the word cut short, and, for a word
# ending in "e", its -ing and -ed forms (pass --near-miss for better ones).
if [[ -z $near_miss && $word != activate ]]; then
  near_miss="${word%?},${word%??}"
  if [[ $word == *e ]]; then near_miss+=",${word%e}ing,${word%e}ed"; fi
fi
[[ -n $near_miss ]] && negative_args+=(--near-miss "$near_miss")
# The respellings the shipped model's recipe uses (models/README.md).
if [[ -z $pronunciations && $word == activate ]]; then
  pronunciations="activait,actavate,actervate,ak-tiv-ate,activ-ate"
fi

step 1 "installing packages and building earshot"
"$repo/tools/install_deps.sh" --data
if [[ -n ${EARSHOT_BINARY:-} ]]; then
  earshot=$EARSHOT_BINARY  # an earshot already built (the test suite's)
else
  cmake -S "$repo" -B "$repo/build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$repo/build" -j"$(nproc)" --target earshot >/dev/null
  earshot=$repo/build/earshot
fi

step 2 "'$word' spoken by every TTS voice"
[[ -f $work/raw/trigger/manifest.tsv ]] ||
  "$repo/synth/make_tts_clips.sh" --text "$word" --out "$work/raw/trigger" "${tts_args[@]}"
if [[ -n $pronunciations && ! -f $work/raw/pronunciation/manifest.tsv ]]; then
  tr ',' '\n' <<<"$pronunciations" | sed 's/^ *//; s/ *$//; /^$/d' >"$work/pronunciations.txt"
  word_clips=$(($(wc -l <"$work/raw/trigger/manifest.tsv") - 1))
  spellings=$(wc -l <"$work/pronunciations.txt")
  "$repo/synth/make_tts_clips.sh" --text-file "$work/pronunciations.txt" \
    --per-text $(((word_clips + spellings - 1) / spellings)) --out "$work/raw/pronunciation" \
    "${tts_args[@]}"
fi
if [[ -n $recordings && ! -f $work/raw/recording/manifest.tsv ]]; then
  # Status 1: some takes were skipped (each named above); the others are used.
  status=0
  "$repo/synth/prepare_recordings.sh" --from "$recordings" --out "$work/raw/recording" \
    --text "$word" || status=$?
  if ((status > 1)) || [[ ! -f $work/raw/recording/manifest.tsv ]]; then
    die "could not prepare the takes in '$recordings' (see above)"
  fi
  (($(wc -l <"$work/raw/recording/manifest.tsv") > 1)) || die "no usable take in '$recordings'"
fi

step 3 "negative words in the same voices"
[[ -f $work/raw/negatives/generic/manifest.tsv ]] ||
  "$repo/synth/make_negative_words.sh" --word "$word" --out "$work/raw/negatives" \
    "${tts_args[@]}" "${negative_args[@]}"

step 4 "real speech, noise and sound events"
[[ -f $work/raw/real/LICENCES.tsv ]] ||
  "$repo/synth/gather_real_material.sh" --out "$work/raw/real" "${real_args[@]}"

step 5 "holding out voices ('$holdout'), real speech sets and a noise family"
rm -rf "$work/train" "$work/heldout"
for set in trigger pronunciation negatives/near_miss negatives/generic; do
  [[ -f $work/raw/$set/manifest.tsv ]] || continue
  name=$(basename "$set")
  # Every voice must say the trigger; a short list of other words may miss the held-out voices.
  allow_none=()
  [[ $set == trigger ]] || allow_none=(--allow-none)
  "$repo/synth/split_by_voice.sh" --from "$work/raw/$set" --holdout "$holdout" \
    --train "$work/train/$name" --heldout "$work/heldout/$name" "${allow_none[@]}"
done
mkdir -p "$work/train/speech" "$work/train/backgrounds" "$work/heldout/speech" "$work/heldout/noise"
for dir in "$work"/raw/real/speech/*/; do
  name=$(basename "$dir")
  if is_heldout_speech "$name"; then
    ln -sfn "$dir" "$work/heldout/speech/$name"
  else
    ln -sfn "$dir" "$work/train/speech/$name"
  fi
done
# Short sounds (animals, doors, beeps) are all for training: they join the negatives.
if compgen -G "$work/raw/real/events/*/" >/dev/null; then
  mkdir -p "$work/train/events"
  for dir in "$work"/raw/real/events/*/; do ln -sfn "$dir" "$work/train/events/$(basename "$dir")"; done
fi
for dir in "$work"/raw/real/backgrounds/*/; do
  name=$(basename "$dir")
  if is_heldout_noise "$name"; then
    ln -sfn "$dir" "$work/heldout/noise/$name"
  else
    ln -sfn "$dir" "$work/train/backgrounds/$name"
  fi
done
# Without shared/data there is no held-out real material: evaluate on what there is.
[[ -n $(ls -A "$work/heldout/noise") ]] || ln -sfn "$work/raw/real/backgrounds" "$work/heldout/noise/all"
[[ -n $(ls -A "$work/heldout/speech") ]] || ln -sfn "$work/heldout/generic" "$work/heldout/speech/tts_generic"
if [[ -f $work/raw/recording/manifest.tsv ]]; then
  # The last quarter of the speakers by name (at least one of two or more) measure the model.
  if [[ -z $recordings_holdout ]]; then
    mapfile -t speakers < <(tail -n +2 "$work/raw/recording/manifest.tsv" | cut -f4 |
      sed 's/^recording://' | LC_ALL=C sort -u)
    held=$(((${#speakers[@]} + 3) / 4))
    ((${#speakers[@]} >= 2)) || held=0
    recordings_holdout=$(printf '%s\n' "${speakers[@]: ${#speakers[@]} - held}" | paste -sd'|')
  fi
  echo "make_model.sh: recorded speakers held out for evaluation: ${recordings_holdout:-none}" >&2
  recording_voices='^$' # no voice is empty: nothing held out
  [[ -z $recordings_holdout ]] || recording_voices="^recording:($recordings_holdout)\$"
  "$repo/synth/split_by_voice.sh" --from "$work/raw/recording" --holdout "$recording_voices" \
    --train "$work/train/recording" --heldout "$work/heldout/recording" --allow-none
fi

step 6 "new speakers from the training voices; synthesizing $clips training clips"
# Each TTS set joins the training clips with its re-voicing by praat (every clip once more,
# with another vocal tract length, pitch and tempo: a few natural voices become many
# speakers), at the same weight.
sources=()
add_with_new_speakers() { # option (--triggers|--negatives), set, weight
  [[ -f $work/train/$2/manifest.tsv ]] || return 0
  (($(wc -l <"$work/train/$2/manifest.tsv") > 1)) || return 0 # every clip held out
  "$repo/synth/make_pseudo_speakers.sh" --from "$work/train/$2" --out "$work/train/$2_ps" \
    --per-clip 1 --seed "$seed"
  sources+=("$1" "$work/train/$2:$3" "$1" "$work/train/$2_ps:$3")
}
# With respellings, the word itself keeps two thirds of the trigger draws.
word_weight=1
[[ -f $work/train/pronunciation/manifest.tsv ]] && word_weight=2
add_with_new_speakers --triggers trigger "$word_weight"
add_with_new_speakers --triggers pronunciation 1
# Real takes are drawn as often as the TTS clips of the word (a choice, not a measurement: no
# recordings were at hand to compare weights).
add_with_new_speakers --triggers recording "$word_weight"
add_with_new_speakers --negatives near_miss 2
add_with_new_speakers --negatives generic 2
sources+=(--negatives "$work/train/speech:2")
[[ -d $work/train/events ]] && sources+=(--negatives "$work/train/events:1")
"$earshot" synth "${sources[@]}" \
  --backgrounds "$work/train/backgrounds" --count "$clips" --seed "$seed" --max-negatives 4 \
  --label-window-s 0.5 --out "$work/dataset" --quiet

step 7 "training $networks network(s)"
if ((networks == 1)); then
  "$earshot" train --data "$work/dataset" --out "$work/trained.earshot" --keyword "$word" \
    --label-window-s 0.5 --seed "$seed" --log "$work/training_log.csv" "${train_args[@]}"
else
  members=()
  for ((n = 1; n <= networks; n++)); do
    "$earshot" train --data "$work/dataset" --out "$work/network$n.earshot" --keyword "$word" \
      --label-window-s 0.5 --seed $((seed + n - 1)) --log "$work/training_log$n.csv" \
      "${train_args[@]}"
    members+=(--model "$work/network$n.earshot")
  done
  "$earshot" ensemble "${members[@]}" --out "$work/trained.earshot" >/dev/null
fi

step 8 "evaluating on held-out voices and calibrating the threshold"
eval_positives=(--positives "$work/heldout/trigger")
if compgen -G "$work/heldout/recording/*.wav" >/dev/null; then
  eval_positives+=(--positives "$work/heldout/recording")
fi
eval_negatives=(--negatives "$work/heldout/speech")
for set in near_miss generic; do
  if compgen -G "$work/heldout/$set/*.wav" >/dev/null; then
    eval_negatives+=(--negatives "$work/heldout/$set")
  fi
done
"$earshot" eval --model "$work/trained.earshot" "${eval_positives[@]}" \
  "${eval_negatives[@]}" --noise "$work/heldout/noise" --snr 10 --snr 0 --snr 5 --snr 20 \
  --negative-hours "$eval_hours" --seed "$seed" --out "$work/evaluation" \
  --calibrate "$target_fa" --calibrated-model "$out" --model-card "${out%.earshot}.md"
echo "make_model.sh: wrote $out and ${out%.earshot}.md (work files in $work)" >&2
