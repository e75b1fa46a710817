#!/usr/bin/env bash
# New speakers made from existing clips: each clip of a TTS directory (make_tts_clips.sh or
# make_negative_words.sh output) is re-voiced K times with praat's "Change gender" (PSOLA):
# the formants move by a random ratio (a longer or shorter vocal tract), the pitch gets a new
# median and range, and the duration a new factor, each drawn independently. A handful of
# natural-sounding TTS voices thus become many speakers, which is what a model needs to
# generalise to voices it never heard; plain resampling (synth --speed-*) cannot do this, as
# it moves pitch, formants and tempo together.
#
#   synth/make_pseudo_speakers.sh --from DIR --out DIR [--per-clip K] [--seed S]
#
# DIR/manifest.tsv keeps the source's columns (the voice becomes VOICE+psN, so its base voice
# and any split_by_voice.sh hold-out stay the same) and adds formant_ratio, pitch_hz,
# pitch_range and duration_factor. Clips stay trimmed: the word still ends where the clip
# ends. Convert the negative words with the same settings as the triggers, or the model can
# learn the conversion's sound as a cue for the trigger.
#
# Deterministic for a seed. Other options:
#   --formant-ratio LO,HI   range of the formant shift ratio (default 0.84,1.2)
#   --pitch-hz LO,HI        range of the new median pitch (default 85,260)
#   --jobs J                parallel praat processes (default: nproc)
#   --force                 replace an earlier run's clips in DIR
set -euo pipefail

usage() {
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

die() {
  echo "make_pseudo_speakers.sh: $*" >&2
  exit 1
}

# shellcheck source=synth/lib_rng.sh
source "$(dirname "$0")/lib_rng.sh"

# Praat reads a table of conversions and writes each one; one process per worker, since
# starting praat costs more than converting a word.
praat_script() {
  cat <<'EOF'
form Convert
  sentence Jobs
endform
jobs = Read Table from tab-separated file: jobs$
rows = Get number of rows
for row to rows
  selectObject: jobs
  in$ = Get value: row, "in"
  out$ = Get value: row, "out"
  formant = Get value: row, "formant_ratio"
  pitch = Get value: row, "pitch_hz"
  range = Get value: row, "pitch_range"
  duration = Get value: row, "duration_factor"
  # PSOLA draws random numbers (for unvoiced stretches): seeded per conversion, so a clip
  # comes out the same whichever worker converts it.
  seed = Get value: row, "seed"
  random_initializeWithSeedUnsafelyButPredictably (seed)
  # An unreadable clip is reported and skipped; the others are still converted.
  nocheck Read from file: in$
  if selected () = jobs
    appendInfoLine: "cannot read ", in$
  else
    source = selected ()
    @convert
  endif
endfor

procedure convert
  # A range factor above 1 can push a low pitch below zero, which praat refuses: such a clip
  # keeps its contour's width instead (range 1 never goes below zero).
  nocheck Change gender: 75, 600, formant, pitch, range, duration
  if selected () = source
    Change gender: 75, 600, formant, pitch, 1, duration
  endif
  converted = selected ()
  # PSOLA can overshoot full scale; keep the word unclipped (synth sets the level anyway).
  peak = Get absolute extremum: 0, 0, "None"
  if peak > 0.99
    Scale peak: 0.99
  endif
  Save as WAV file: out$
  removeObject: source, converted
endproc
EOF
}

# A value uniform in [lo, hi] given in units of 10^-digits, printed as a decimal.
draw_fixed() { # lo hi digits
  rand_between "$1" "$2"
  (($3 > 0)) || return 0
  local unit=$((10 ** $3))
  printf -v REPLY '%d.%0*d' $((REPLY / unit)) "$3" $((REPLY % unit))
}

# "LO,HI" in units of 10^-digits, as two integers.
fixed_range() { # text option digits
  [[ $1 =~ ^([0-9]+(\.[0-9]+)?),([0-9]+(\.[0-9]+)?)$ ]] || die "$2 takes LO,HI, got '$1'"
  awk -v a="${BASH_REMATCH[1]}" -v b="${BASH_REMATCH[3]}" -v d="$3" 'BEGIN {
    lo = int(a * 10 ^ d + 0.5); hi = int(b * 10 ^ d + 0.5)
    if (lo <= 0 || lo > hi) exit 1
    print lo, hi }' || die "$2: need 0 < LO <= HI, got '$1'"
}

# The tab-separated cells of a manifest row in `fields`, empty cells kept (a whitespace IFS
# such as a tab would merge them and shift the later columns).
split_cells() { # row
  IFS=$'\x1f' read -r -a fields <<<"${1//$'\t'/$'\x1f'}"
}

from="" out="" per_clip=2 seed=1 jobs=$(nproc) force=0
formant_range="0.84,1.2" pitch_range_hz="85,260"
while [[ $# -gt 0 ]]; do
  case $1 in
    --from) from=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --per-clip) per_clip=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --formant-ratio) formant_range=$2; shift 2 ;;
    --pitch-hz) pitch_range_hz=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --force) force=1; shift ;;
    -h|--help) usage ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ -n $from && -n $out ]] || die "--from and --out are required (see --help)"
[[ -f $from/manifest.tsv ]] || die "'$from' has no manifest.tsv (make it with make_tts_clips.sh)"
[[ $per_clip =~ ^[1-9][0-9]*$ ]] || die "--per-clip must be a positive integer, got '$per_clip'"
[[ $seed =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer, got '$seed'"
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer, got '$jobs'"
read -r formant_lo formant_hi <<<"$(fixed_range "$formant_range" --formant-ratio 3)"
read -r pitch_lo pitch_hi <<<"$(fixed_range "$pitch_range_hz" --pitch-hz 0)"
command -v praat >/dev/null || die "praat is not installed (tools/install_deps.sh --data installs it)"

mkdir -p "$out"
if [[ -n $(ls -A "$out") ]]; then
  [[ $force == 1 ]] || die "'$out' is not empty; use --force to replace an earlier run's clips"
  rm -rf "$out/.work" "$out/manifest.tsv"
  find "$out" -maxdepth 1 -name '*.wav' -delete
fi
from=$(cd "$from" && pwd)
out=$(cd "$out" && pwd)
work="$out/.work"
mkdir -p "$work"

header=$(head -n 1 "$from/manifest.tsv")
file_col=$(awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) if($i=="file") print i}' <<<"$header")
voice_col=$(awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) if($i=="voice") print i}' <<<"$header")
[[ -n $file_col && -n $voice_col ]] || die "'$from/manifest.tsv' lacks a file or voice column"

# The plan: one row per conversion, dealt round-robin to the workers' job tables, and the
# manifest row each conversion will get.
rng_seed "$seed"
for ((w = 0; w < jobs; w++)); do
  printf 'in\tout\tformant_ratio\tpitch_hz\tpitch_range\tduration_factor\tseed\n' >"$work/jobs$w.tsv"
done
printf '%s\tformant_ratio\tpitch_hz\tpitch_range\tduration_factor\n' "$header" >"$work/manifest.tsv"
n=0
while IFS= read -r line; do
  split_cells "$line"
  source_file=${fields[file_col - 1]}
  for ((k = 1; k <= per_clip; k++)); do
    draw_fixed "$formant_lo" "$formant_hi" 3; formant=$REPLY
    draw_fixed "$pitch_lo" "$pitch_hi" 0; pitch=$REPLY
    draw_fixed 50 150 2; range=$REPLY
    draw_fixed 85 120 2; duration=$REPLY
    name="${source_file%.wav}_ps$k.wav"
    rand_below 1000000000
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$from/$source_file" "$out/$name" "$formant" "$pitch" \
      "$range" "$duration" "$REPLY" >>"$work/jobs$((n % jobs)).tsv"
    row=("${fields[@]}")
    row[file_col - 1]=$name
    row[voice_col - 1]="${fields[voice_col - 1]}+ps$k"
    (IFS=$'\t'; printf '%s\t%s\t%s\t%s\t%s\n' "${row[*]}" "$formant" "$pitch" "$range" "$duration") \
      >>"$work/manifest.tsv"
    n=$((n + 1))
  done
done < <(tail -n +2 "$from/manifest.tsv")

echo "make_pseudo_speakers.sh: $n conversions of $((n / per_clip)) clips, $jobs workers" >&2
praat_script >"$work/convert.praat"
# Waited for by process id: "wait -n" can miss a worker that exits at the same moment as
# another one and report "no children" (127) instead of its status.
failed=0 workers=()
for ((w = 0; w < jobs; w++)); do
  praat --run "$work/convert.praat" "$work/jobs$w.tsv" >"$work/praat$w.log" 2>&1 &
  workers+=($!)
done
for w in "${!workers[@]}"; do
  wait "${workers[w]}" || { echo "make_pseudo_speakers.sh: praat worker $w exited with status $?" >&2; failed=1; }
done
if [[ $failed == 1 ]]; then
  cat "$work"/praat*.log >&2
  die "praat failed (its messages are above)"
fi

# The manifest lists the clips that came out; a clip that did not is named, and the exit
# status says the run was partial.
missing=0
{
  head -n 1 "$work/manifest.tsv"
  while IFS= read -r line; do
    split_cells "$line"
    if [[ -s $out/${fields[file_col - 1]} ]]; then
      printf '%s\n' "$line"
    else
      echo "make_pseudo_speakers.sh: no ${fields[file_col - 1]}: praat could not convert it" >&2
      missing=$((missing + 1))
    fi
  done < <(tail -n +2 "$work/manifest.tsv")
} >"$out/manifest.tsv"
grep -h "cannot read" "$work"/praat*.log >&2 || true
rm -rf "$work"
echo "make_pseudo_speakers.sh: wrote $((n - missing)) clips and $out/manifest.tsv" >&2
[[ $missing == 0 ]] || die "$missing of $n conversions failed"
