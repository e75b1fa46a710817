#!/usr/bin/env bash
# Raw clips of words or phrases spoken by every text-to-speech voice this machine offers
# (espeak-ng accents x variants, flite, festival), as 16 kHz mono 16-bit WAV with the silence
# trimmed at both ends, plus DIR/manifest.tsv (file, text, engine, voice, pitch, speed).
# On request (--engines ...,festival-accented), festival's non-English voices (Czech, Finnish,
# Italian, Catalan, Russian, Hindi, Marathi, Telugu) speak the texts that synth/respellings.tsv
# respells for their language, as accented English. Not by default: models trained with them
# did worse on held-out English voices (models/EXPERIMENTS.md).
#
#   synth/make_tts_clips.sh --text "activate" --out DIR [--variants N] [--seed S]
#   synth/make_tts_clips.sh --text-file words.txt --per-text K --out DIR [--variants N] [--seed S]
#
# The voice plan: every base voice (each espeak-ng English accent, each flite voice, each
# festival voice) gets N renditions: espeak-ng draws N distinct variants (+m1, +f3, +klatt2,
# ...) with a random pitch (-p) and speed (-s); flite and festival draw a duration stretch
# and a pitch shift in cents (applied with sox). With --text every plan entry speaks the
# text. With --text-file each line is spoken by K entries taken round-robin from the
# shuffled plan, so all voices are used equally; make_negative_words.sh relies on this to
# give negatives the very voices and settings of the trigger (same --variants and --seed).
#
# Deterministic for a seed (own PRNG, sox -R). Other options:
#   --engines LIST   comma-separated list of espeak-ng,flite,festival,festival-accented
#                    (default: the first three, those installed)
#   --respellings F  the respellings for festival-accented (default: synth/respellings.tsv)
#   --jobs J         parallel workers (default: nproc)
#   --force          replace the WAVs and manifest of an earlier run in DIR
set -euo pipefail

usage() {
  sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

die() {
  echo "make_tts_clips.sh: $*" >&2
  exit 1
}

# shellcheck source=synth/lib_rng.sh
source "$(dirname "$0")/lib_rng.sh"

# ---- the worker side: render one planned clip (called through xargs) -----------------------
# A plan line: id <TAB> engine <TAB> voice <TAB> pitch <TAB> speed <TAB> text <TAB> spoken
# (spoken: what the voice says for the text, its respelling for an accented voice)
render_raw() { # out_dir, plan line
  local out=$1 id engine voice pitch speed text spoken
  IFS=$'\t' read -r id engine voice pitch speed text spoken <<<"$2"
  local raw="$out/.raw/$id.wav"
  case $engine in
    espeak-ng) printf '%s' "$spoken" | espeak-ng --stdin -v "$voice" -p "$pitch" -s "$speed" -w "$raw" ;;
    flite) flite -voice "$voice" --setf duration_stretch="$speed" -t "$spoken" -o "$raw" ;;
  esac
}

# Festival loads a voice in about a second: one process per voice renders all its clips.
render_festival_batch() { # out_dir, batch file (scheme)
  festival -b "$2" >/dev/null 2>&1 || echo "make_tts_clips.sh: festival batch $2 failed" >&2
}

# The accented voices (festival's non-English ones): voice, the language of its respellings,
# the text encoding its front end reads (the Marathi voice reads the Hindi respellings: both
# are Devanagari), and the level in dBFS where its speech starts and ends. -50 dBFS keeps
# soft consonants; the Indian-language voices were recorded with a noise floor near -40 dBFS
# and the Catalan one breathes before the word, so theirs sit just above that, or the label
# would land long after the word.
accented_voice_table() {
  printf '%s\n' "czech_dita cs ISO-8859-2 -50" "czech_krb cs ISO-8859-2 -50" \
    "czech_machac cs ISO-8859-2 -50" "czech_ph cs ISO-8859-2 -50" \
    "suo_fi_lj_diphone fi ISO-8859-1 -50" "hy_fi_mv_diphone fi ISO-8859-1 -50" \
    "lp_diphone it ISO-8859-1 -50" "pc_diphone it ISO-8859-1 -50" \
    "upc_ca_ona_hts ca ISO-8859-1 -40" "msu_ru_nsh_clunits ru UTF-8 -50" \
    "hindi_NSK_diphone hi UTF-8 -33" "marathi_NSK_diphone hi UTF-8 -33" \
    "telugu_NSK_diphone te UTF-8 -33"
}

silence_threshold_db() { # voice
  local name language encoding level
  while read -r name language encoding level; do
    if [[ $name == "$1" ]]; then
      echo "$level"
      return
    fi
  done < <(accented_voice_table)
  echo -50
}

# Resample to 16 kHz mono 16-bit, shift pitch where the engine could not, trim silence at
# both ends, keep 5 ms of silence either side.
convert_clip() { # out_dir, plan line
  local out=$1 id engine voice pitch speed
  IFS=$'\t' read -r id engine voice pitch speed _ <<<"$2"
  local raw="$out/.raw/$id.wav" final="$out/$id.wav"
  [[ -s $raw ]] || return 0
  local pitch_effect=() silence_db
  if [[ $engine != espeak-ng && $pitch != 0 ]]; then pitch_effect=(pitch "$pitch"); fi
  silence_db=$(silence_threshold_db "$voice")
  sox -R -q "$raw" -r 16000 -c 1 -b 16 "$final" "${pitch_effect[@]}" silence 1 0.01 "${silence_db}d" \
    reverse silence 1 0.01 "${silence_db}d" reverse pad 0.005 0.005 2>/dev/null || true
  # A clip shorter than 50 ms is a failed synthesis (or trimmed to nothing): drop it.
  if [[ ! -s $final ]] || [[ $(soxi -s "$final" 2>/dev/null || echo 0) -lt 800 ]]; then
    rm -f "$final"
  fi
}

# Called back through xargs: --worker OUT_DIR TASK PAYLOAD.
if [[ ${1:-} == --worker ]]; then
  case $3 in
    render) render_raw "$2" "$4" || echo "make_tts_clips.sh: failed to render: $4" >&2 ;;
    festival) render_festival_batch "$2" "$4" ;;
    convert) convert_clip "$2" "$4" ;;
  esac
  exit 0
fi

# ---- options --------------------------------------------------------------------------------
text="" text_file="" out="" variants=20 seed=1 per_text=0 jobs=$(nproc) engines="" force=0
respellings="$(dirname "$0")/respellings.tsv"
while [[ $# -gt 0 ]]; do
  case $1 in
    --text) text=$2; shift 2 ;;
    --text-file) text_file=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --variants) variants=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --per-text) per_text=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --engines) engines=$2; shift 2 ;;
    --respellings) respellings=$2; shift 2 ;;
    --force) force=1; shift ;;
    -h | --help) usage ;;
    *) echo "make_tts_clips.sh: unknown option '$1'" >&2; usage ;;
  esac
done
[[ -n $out ]] || { echo "make_tts_clips.sh: --out DIR is required" >&2; usage; }
[[ -n $text || -n $text_file ]] || { echo "make_tts_clips.sh: --text or --text-file is required" >&2; usage; }
[[ -z $text || -z $text_file ]] || die "give --text or --text-file, not both"
[[ $variants =~ ^[1-9][0-9]*$ ]] || die "--variants must be a positive integer, got '$variants'"
[[ $seed =~ ^[0-9]+$ ]] || die "--seed must be a non-negative integer, got '$seed'"
[[ $per_text =~ ^[0-9]+$ ]] || die "--per-text must be a non-negative integer, got '$per_text'"
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer, got '$jobs'"
[[ -z $text_file || -r $text_file ]] || die "cannot read text file '$text_file'"
command -v sox >/dev/null || die "sox is not installed (tools/install_deps.sh --data)"

texts=()
if [[ -n $text ]]; then
  texts=("$text")
else
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%%#*}                                 # comments
    line=$(printf '%s' "$line" | tr -s ' \t\r' '  ') # one space between words
    line=${line# }
    line=${line% }
    [[ -n $line ]] && texts+=("$line")
  done <"$text_file"
  [[ ${#texts[@]} -gt 0 ]] || die "text file '$text_file' holds no text"
fi

if [[ -d $out && -n $(ls -A "$out" 2>/dev/null) ]]; then
  [[ $force == 1 ]] || die "'$out' is not empty; use --force to replace an earlier run's clips"
  rm -rf "$out/.raw" "$out/manifest.tsv"
  find "$out" -maxdepth 1 -name '*.wav' -delete
fi
mkdir -p "$out/.raw"

want_engine() { # engine name, the program it runs
  local chosen=${engines:-espeak-ng,flite,festival}
  [[ ,$chosen, == *,$1,* ]] && command -v "$2" >/dev/null
}

# ---- the voice plan -------------------------------------------------------------------------
# espeak-ng accents: its own English voices (the mb-* entries need MBROLA, not in Debian main).
espeak_accents() {
  espeak-ng --voices=en | awk 'NR > 1 && $5 ~ /^gmw\// { print $2 }' | sort -u
}
# Variants that sound like people: the robot, test and joke variants are left out.
espeak_variants() {
  espeak-ng --voices=variant | awk 'NR > 1 { sub(/^!v\//, "", $5); print $5 }' |
    grep -v -i -E '^(robosoft[0-9]*|unirobot|anikarobot|demonic|fast|announcer|ricishaymax[0-9]*)$' |
    sort -u
}
flite_voices() { # kal (8 kHz) and awb_time (unusable) are left out
  flite -lv | tr ' ' '\n' | grep -x -E 'kal16|awb|rms|slt' || true
}
festival_voice_installed() { ls -d /usr/share/festival/voices/*/"$1" >/dev/null 2>&1; }
festival_voices() {
  local voice
  for voice in kal_diphone ked_diphone cmu_us_slt_arctic_hts; do
    festival_voice_installed "$voice" && echo "$voice"
  done
  return 0
}
declare -A voice_language=() voice_encoding=() respelling=()
festival-accented_voices() {
  local voice _
  while read -r voice _; do
    festival_voice_installed "$voice" && echo "$voice"
  done < <(accented_voice_table)
  return 0
}

rng_seed "$seed"
plan=() # engine <TAB> voice <TAB> pitch <TAB> speed
if want_engine espeak-ng espeak-ng; then
  mapfile -t variant_names < <(espeak_variants)
  while read -r accent; do
    # A seeded shuffle of the variants, then the first N (repeating if N is larger).
    order=("${variant_names[@]}")
    for ((i = ${#order[@]} - 1; i > 0; i--)); do
      rand_below $((i + 1))
      tmp=${order[i]} order[i]=${order[REPLY]} order[REPLY]=$tmp
    done
    for ((n = 0; n < variants; n++)); do
      rand_between 25 75; pitch=$REPLY
      rand_between 130 195; speed=$REPLY
      plan+=("espeak-ng"$'\t'"$accent+${order[n % ${#order[@]}]}"$'\t'"$pitch"$'\t'"$speed")
    done
  done < <(espeak_accents)
fi
for engine in flite festival festival-accented; do
  want_engine "$engine" "${engine%-accented}" || continue
  while read -r voice; do
    for ((n = 0; n < variants; n++)); do
      rand_between -250 250; pitch=$REPLY
      rand_between 85 125; speed=$(printf '%d.%02d' $((REPLY / 100)) $((REPLY % 100)))
      plan+=("${engine%-accented}"$'\t'"$voice"$'\t'"$pitch"$'\t'"$speed")
    done
  done < <("${engine}_voices")
done
if want_engine festival-accented festival && [[ -n $(festival-accented_voices) ]]; then
  [[ -r $respellings ]] || die "cannot read the respellings '$respellings'"
  while read -r voice language encoding _; do
    voice_language[$voice]=$language voice_encoding[$voice]=$encoding
  done < <(accented_voice_table)
  while IFS=$'\t' read -r language text_key spoken; do
    [[ -z $language || $language == \#* ]] || respelling["$language"$'\t'"$text_key"]=$spoken
  done <"$respellings"
fi
[[ ${#plan[@]} -gt 0 ]] || die "no TTS engine found (tools/install_deps.sh --data installs them)"

# Shuffle the plan for --per-text, so consecutive texts get different voices.
for ((i = ${#plan[@]} - 1; i > 0; i--)); do
  rand_below $((i + 1))
  tmp=${plan[i]} plan[i]=${plan[REPLY]} plan[REPLY]=$tmp
done

slug() { printf '%s' "$1" | tr -c 'A-Za-z0-9' '_' | cut -c1-24; }

# What VOICE says for TEXT: the text itself, or for an accented voice the respelling of the
# lower-cased text in its language; fails when that voice has none.
spoken_text() { # voice, text
  local language=${voice_language[$1]:-}
  if [[ -z $language ]]; then
    REPLY=$2
    return 0
  fi
  REPLY=${respelling["$language"$'\t'"${2,,}"]:-}
  [[ -n $REPLY ]]
}

jobs_file="$out/.raw/jobs.tsv"
: >"$jobs_file"
next=0
clip=0
for text_line in "${texts[@]}"; do
  count=$per_text
  [[ $count -gt 0 && -n $text_file ]] || count=${#plan[@]}
  for ((k = 0; k < count; k++)); do
    # The next plan entry whose voice can say the text (an accented voice may have no
    # respelling); with --text every entry is tried once.
    for ((tries = 0; tries < ${#plan[@]}; tries++)); do
      entry=${plan[next % ${#plan[@]}]}
      next=$((next + 1))
      IFS=$'\t' read -r engine voice pitch speed <<<"$entry"
      spoken_text "$voice" "$text_line" && break
      [[ $count -lt ${#plan[@]} ]] || break
    done
    [[ -n $REPLY ]] || continue
    spoken=$REPLY
    id=$(printf '%06d_%s_%s_%s' "$clip" "$engine" "$(slug "$voice")" "$(slug "$text_line")")
    clip=$((clip + 1))
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$engine" "$voice" "$pitch" "$speed" "$text_line" \
      "$spoken" >>"$jobs_file"
  done
done

# ---- render, convert, list --------------------------------------------------------------------
start_s=$SECONDS
total=$(wc -l <"$jobs_file")
echo "make_tts_clips.sh: ${#texts[@]} text(s), ${#plan[@]} voice settings, $total clips, $jobs workers" >&2

# Festival batches: one scheme file per voice; speed through Duration_Stretch.
scheme_string() { local s=${1//\\/\\\\}; printf '"%s"' "${s//\"/\\\"}"; }
festival_batches=()
while IFS=$'\t' read -r id engine voice pitch speed text_line spoken; do
  [[ $engine == festival ]] || continue
  batch="$out/.raw/festival_$voice.scm"
  if [[ ! -e $batch ]]; then
    echo "(voice_$voice)" >"$batch"
    festival_batches+=("$batch")
  fi
  printf "(Parameter.set 'Duration_Stretch %s)\n(utt.save.wave (utt.synth (Utterance Text %s)) %s 'riff)\n" \
    "$speed" "$(scheme_string "$spoken")" "$(scheme_string "$out/.raw/$id.wav")" >>"$batch"
done <"$jobs_file"
# Festival's Czech, Finnish, Italian and Catalan front ends read 8-bit text, not UTF-8.
for batch in "${festival_batches[@]}"; do
  voice=$(basename "$batch" .scm)
  encoding=${voice_encoding[${voice#festival_}]:-UTF-8}
  if [[ $encoding != UTF-8 ]]; then
    iconv -f UTF-8 -t "$encoding" "$batch" >"$batch.8bit" || die "cannot write $batch in $encoding"
    mv "$batch.8bit" "$batch"
  fi
done

{
  for batch in "${festival_batches[@]}"; do printf 'festival\0%s\0' "$batch"; done
  while IFS= read -r line; do
    [[ $line == *$'\t'festival$'\t'* ]] || printf 'render\0%s\0' "$line"
  done <"$jobs_file"
} | xargs -0 -n 2 -P "$jobs" bash "$0" --worker "$out"

while IFS= read -r line; do printf 'convert\0%s\0' "$line"; done <"$jobs_file" |
  xargs -0 -n 2 -P "$jobs" bash "$0" --worker "$out"

# The manifest lists the clips that came out, in plan order.
{
  printf 'file\ttext\tengine\tvoice\tpitch\tspeed\n'
  while IFS=$'\t' read -r id engine voice pitch speed text_line _; do
    [[ -e "$out/$id.wav" ]] && printf '%s.wav\t%s\t%s\t%s:%s\t%s\t%s\n' \
      "$id" "$text_line" "$engine" "$engine" "$voice" "$pitch" "$speed"
  done <"$jobs_file"
} >"$out/manifest.tsv.partial"
mv "$out/manifest.tsv.partial" "$out/manifest.tsv"
rm -rf "$out/.raw"

made=$(($(wc -l <"$out/manifest.tsv") - 1))
echo "make_tts_clips.sh: $made of $total clips in $out ($((SECONDS - start_s)) s)" >&2
[[ $made -gt 0 ]] || die "no clip was produced"
