#!/usr/bin/env bash
# Makes the shipped "activate" model's training and evaluation data again, from Debian
# packages and ../shared/data, in one command (the steps of models/README.md, "Training data",
# which earlier sessions ran by hand):
#
#   tools/make_activate_data.sh --work DIR [--shared DIR] [--earshot PATH] [--skip-install]
#
# Leaves in DIR:
#   ds-v16MN/, ds-v17MN/   the two synthesized sets the shipped model's networks were trained on
#                          (6,000 and 12,000 clips of 10 s)
#   heldout/               the evaluation material of the card's `earshot eval` commands:
#                          triggers, triggers2, near_miss, generic (the three evaluation voices),
#                          speech (four held-out real speech sets), noise (the Speech Commands
#                          noise family)
#   raw/, ps/, tr/, ev/, train/  the clips they are made of (TTS, praat re-voicings, voice split)
# Then train as the card says, e.g.
#   earshot train --data DIR/ds-v16MN --data DIR/ds-v17MN --gru 96,96 --seed 2 ...
# Finished steps are kept, so an interrupted run can be repeated. Needs the packages of
# tools/install_deps.sh --data and megaglest-data (installed here unless --skip-install).
set -euo pipefail

die() { echo "make_activate_data.sh: $*" >&2; exit 2; }
step() { echo "make_activate_data.sh: $* ($(date +%H:%M:%S))" >&2; }

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=synth/lib_heldout.sh
source "$repo/synth/lib_heldout.sh"
work="" shared="$repo/../shared/data" earshot="$repo/build/earshot" install=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --work) work=$2; shift 2 ;;
    --shared) shared=$2; shift 2 ;;
    --earshot) earshot=$2; shift 2 ;;
    --skip-install) install=0; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ -n $work ]] || die "--work DIR is required"
[[ -x $earshot ]] || die "no earshot at '$earshot' (build it, or pass --earshot PATH)"
mkdir -p "$work"
cd "$work"
synth_dir=$repo/synth
# The three voices the card's figures are measured on.
readonly holdout='^(festival:cmu_us_slt_arctic_hts|flite:rms|espeak-ng:en-gb-scotland)$'

if [[ $install == 1 ]]; then
  step "installing packages"
  "$repo/tools/install_deps.sh" --data
  dpkg-query -W -f='${Status}' megaglest-data 2>/dev/null | grep -q "install ok installed" ||
    apt-get install -y --no-install-recommends megaglest-data >/dev/null
fi

tts() { # OUT, then make_tts_clips.sh's arguments
  local out=$1
  shift
  [[ -f $out/manifest.tsv ]] || "$synth_dir/make_tts_clips.sh" --out "$out" "$@"
}

step "TTS clips"
tts raw/tts_activate --text activate --variants 40 --seed 1
tts raw/tts_activate2 --text activate --variants 100 --seed 2
# "activate" at the end of short phrases: the clip ends where the word ends.
printf '%s\n' 'activate?' 'activate!' 'Activate.' 'activate,' 'please activate' 'now activate' \
  'okay, activate' 'you can activate' 'then activate' 'I said activate' "let's activate" \
  'time to activate' >activate_contexts.txt
tts raw/tts_activate_ctx --text-file activate_contexts.txt --per-text 120 --variants 40 --seed 5
# Respellings that the voices say the way people do.
printf '%s\n' activait actavate actervate ak-tiv-ate activ-ate >activate_variants.txt
tts raw/tts_activate_var --text-file activate_variants.txt --per-text 150 --variants 40 --seed 31
[[ -f raw/negatives/generic/manifest.tsv ]] ||
  "$synth_dir/make_negative_words.sh" --word activate --out raw/negatives --variants 40 --seed 1
# Six more renditions of every everyday word, and numbers and short "-ate" words.
tts raw/generic6 --text-file raw/negatives/generic_words.txt --per-text 6 --variants 40 --seed 2
printf '%s\n' zero one two three four five six seven eight nine ten eleven twelve thirteen \
  eighteen twenty thirty eighty eighty-eight 'at eight' "eight o'clock" great late wait \
  straight weight plate gate date ate hate skate crate freight 'wait a bit' 'too late' \
  'great day' >numbers.txt
tts raw/numbers --text-file numbers.txt --per-text 8 --variants 40 --seed 3

step "real speech, noise and sound events"
[[ -f raw/real/LICENCES.tsv ]] ||
  "$synth_dir/gather_real_material.sh" --out raw/real --shared "$shared" --install

step "splitting by voice and re-voicing with praat"
# name, source, per-clip re-voicings, seed for the training voices' side, for the evaluation's
while read -r name source per_clip train_seed eval_seed; do
  "$synth_dir/split_by_voice.sh" --from "$source" --holdout "$holdout" --train "tr/$name" \
    --heldout "ev/$name" --allow-none >/dev/null
  for side in tr ev; do
    seed=$train_seed
    [[ $side == ev ]] && seed=$eval_seed
    [[ -f ps/$side/$name/manifest.tsv ]] || [[ -z $(ls "$side/$name"/*.wav 2>/dev/null) ]] ||
      "$synth_dir/make_pseudo_speakers.sh" --from "$side/$name" --out "ps/$side/$name" \
        --per-clip "$per_clip" --seed "$seed"
  done
done <<'EOF'
triggers raw/tts_activate 2 21 31
triggers2 raw/tts_activate2 1 22 32
triggers_ctx raw/tts_activate_ctx 1 23 33
near_miss raw/negatives/near_miss 3 24 34
generic raw/negatives/generic 2 25 35
triggers_var raw/tts_activate_var 1 32 36
generic6 raw/generic6 2 26 37
numbers raw/numbers 2 27 38
EOF

step "assembling the sets"
# Every voice's clips and re-voicings train (the card: the shipped model heard all 15 voices);
# the evaluation voices' own clips are also the held-out positives and negatives.
rm -rf sets heldout train
mkdir -p sets heldout/speech heldout/noise train/speech train/kde train/backgrounds bg-music noise2
link_set() { # SET, then the directories it is made of
  local set=$1
  shift
  mkdir -p "sets/$set"
  for dir in "$@"; do
    [[ -d $dir ]] && ln -sfn "$work/$dir" "sets/$set/$(tr / _ <<<"$dir")"
  done
}
link_set triggers raw/tts_activate
link_set triggers2 raw/tts_activate2
link_set triggers_ctx raw/tts_activate_ctx
link_set triggers_var raw/tts_activate_var
link_set near_miss raw/negatives/near_miss
link_set generic raw/negatives/generic raw/generic6
link_set numbers raw/numbers
for name in triggers triggers2 triggers_ctx triggers_var near_miss numbers; do
  link_set "ps_$name" "ps/tr/$name" "ps/ev/$name"
done
link_set ps_generic ps/tr/generic ps/ev/generic ps/tr/generic6 ps/ev/generic6
for name in triggers triggers2 near_miss generic; do ln -sfn "$work/ev/$name" "heldout/$name"; done
for dir in raw/real/speech/*/; do
  name=$(basename "$dir")
  if is_heldout_speech "$name"; then
    ln -sfn "$work/$dir" "heldout/speech/$name"
  else
    case $name in
      *ktuberling* | *klettres*) ln -sfn "$work/$dir" "train/kde/$name" ;;
      *) ln -sfn "$work/$dir" "train/speech/$name" ;;
    esac
  fi
done
for dir in raw/real/backgrounds/*/; do
  name=$(basename "$dir")
  if is_heldout_noise "$name"; then
    ln -sfn "$work/$dir" "heldout/noise/$name"
  else
    case $name in
      *scratch*) ln -sfn "$work/$dir" "bg-music/$name" ;; # its music loops
      *megaglest*) ln -sfn "$work/$dir" "noise2/$name" ;; # its ambiences
      *) ln -sfn "$work/$dir" "train/backgrounds/$name" ;;
    esac
  fi
done
ln -sfn "$work/raw/real/events" events

step "synthesizing the two training sets"
synthesize() { # COUNT SEED OUT
  [[ -f $3/manifest.jsonl ]] && return 0
  "$earshot" synth --triggers sets/triggers:1 --triggers sets/triggers2:1 \
    --triggers sets/triggers_ctx:2 --triggers sets/triggers_var:2 --triggers sets/ps_triggers:1 \
    --triggers sets/ps_triggers2:1 --triggers sets/ps_triggers_ctx:2 \
    --triggers sets/ps_triggers_var:1 --negatives sets/near_miss:2 --negatives sets/generic:2 \
    --negatives sets/ps_near_miss:2 --negatives sets/ps_generic:2 --negatives sets/numbers:2 \
    --negatives sets/ps_numbers:1 --negatives train/speech:6 --negatives train/kde:4 \
    --negatives events:3 --backgrounds train/backgrounds:4 --backgrounds bg-music:1 \
    --backgrounds noise2:2 --count "$1" --seed "$2" --max-triggers 3 --max-negatives 8 \
    --label-window-s 0.5 --snr-db-min -5 --snr-db-max 30 --level-dbfs-min -45 \
    --level-dbfs-max -10 --speed-min 0.8 --speed-max 1.25 --eq-prob 0.7 --eq-gain-db-max 12 \
    --reverb-prob 0.5 --bandlimit-prob 0.3 --out "$3" --quiet
}
synthesize 6000 16 ds-v16MN
synthesize 12000 17 ds-v17MN
step "done: $work/ds-v16MN and $work/ds-v17MN; held-out material in $work/heldout"
