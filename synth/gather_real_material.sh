#!/usr/bin/env bash
# Real negative speech and background noise, cut into usable pieces, with licences recorded:
#   OUT/speech/<set>/...wav        real speech, 0.3-3 s, silence trimmed (negatives, babble)
#   OUT/speech/manifest.tsv        file, set, speaker, licence, source
#   OUT/backgrounds/<set>/...wav   noise of at least 10 s (short recordings are looped)
#   OUT/backgrounds/manifest.tsv   file, set, licence, source
#   OUT/events/<set>/...wav        short non-speech sounds, 0.1-4 s (animals, doors, beeps:
#                                  inserted among the negatives, as a pet or a kettle would be)
#   OUT/events/manifest.tsv        file, set, licence, source
#   OUT/LICENCES.tsv               one line per set: set, kind, clips, licence, attribution
#
#   synth/gather_real_material.sh --out OUT [--shared DIR] [--seed S] [--babble N]
#       [--max-per-set N] [--install] [--jobs J] [--force]
#
# Sources, each skipped with a note when absent:
#   --shared DIR (default: <repo>/../shared/data): speech_commands_test/<word>/ (speaker id
#     before "_nohash_"), mycroft/<wake word>/ and mycroft/not_wake_words_*/ (negatives),
#     noise/<family>/ (backgrounds).
#   Debian packages, if installed (--install apt-gets the small ones: asterisk-core-sounds-
#     en-wav, sonic-pi-samples, scratch, ktuberling-data, klettres-data, tuxpaint-data;
#     megaglest-data, 242 MB, is left to the user): asterisk prompts,
#     scratch's human sounds, ktuberling's words and klettres' letters and syllables in many
#     languages (speech);
#     sonic-pi ambiences, scratch's music loops, megaglest's day, night, rain and wind
#     (backgrounds); scratch's animal, effect, electronic, instrument and percussion sounds,
#     megaglest's animal calls and water, tuxpaint's tool sounds (events).
#   Made here with sox: babble (several real speech streams mixed; --babble N files of 30 s,
#     default 12) and coloured noise, hum and fan-like noise (30 s each).
# Deterministic for a seed. --max-per-set N converts at most N files of each set, spread
# evenly over its files in name order (so a capped set keeps most of its languages; clips
# too short or too long are then dropped as always).
set -euo pipefail

usage() {
  sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}
die() {
  echo "gather_real_material.sh: $*" >&2
  exit 1
}
note() { echo "gather_real_material.sh: $*" >&2; }

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=synth/lib_rng.sh
source "$here/lib_rng.sh"

readonly kMinSpeechSamples=4800   # 0.3 s at 16 kHz
readonly kMaxSpeechSamples=48000  # 3 s
readonly kMinBackgroundS=10
readonly kMinEventSamples=1600 # 0.1 s
readonly kMaxEventS=4
readonly kGeneratedS=30

# ---- workers (called back through xargs) ------------------------------------------------------
# Speech: 16 kHz mono 16-bit, silence trimmed at both ends (-45 dBFS: real recordings have a
# noise floor), 10 ms kept either side; dropped unless 0.3-3 s long.
convert_speech() { # source, destination
  mkdir -p "$(dirname "$2")"
  sox -R -q "$1" -r 16000 -c 1 -b 16 "$2" \
    silence 1 0.02 -45d reverse silence 1 0.02 -45d reverse pad 0.01 0.01 2>/dev/null || true
  local samples
  samples=$(soxi -s "$2" 2>/dev/null || echo 0)
  if ((samples < kMinSpeechSamples || samples > kMaxSpeechSamples)); then rm -f "$2"; fi
}

# Events: like speech, but kept from 0.1 s (a pop, a bark) and cut to their first 4 s (a
# passing car, running water).
convert_event() { # source, destination
  mkdir -p "$(dirname "$2")"
  sox -R -q "$1" -r 16000 -c 1 -b 16 "$2" \
    silence 1 0.02 -45d reverse silence 1 0.02 -45d reverse trim 0 "$kMaxEventS" pad 0.01 0.01 \
    2>/dev/null || true
  local samples
  samples=$(soxi -s "$2" 2>/dev/null || echo 0)
  if ((samples < kMinEventSamples)); then rm -f "$2"; fi
}

# Backgrounds: 16 kHz mono 16-bit; a recording shorter than 10 s is repeated until it is not.
convert_background() { # source, destination
  mkdir -p "$(dirname "$2")"
  local length_s repeats=0
  length_s=$(soxi -D "$1" 2>/dev/null || echo 0)
  if awk -v l="$length_s" 'BEGIN { exit !(l <= 0) }'; then return 0; fi
  repeats=$(awk -v l="$length_s" -v m="$kMinBackgroundS" 'BEGIN { r = int(m / l); print (r * l >= m) ? r - 1 : r }')
  sox -R -q "$1" -r 16000 -c 1 -b 16 "$2" repeat "$repeats" 2>/dev/null || rm -f "$2"
}

# --worker KIND SOURCE DESTINATION [KIND SOURCE DESTINATION ...]: several files per worker,
# since starting one costs about as much as converting a short clip.
if [[ ${1:-} == --worker ]]; then
  shift
  while (($# >= 3)); do
    case $1 in
      speech) convert_speech "$2" "$3" ;;
      event) convert_event "$2" "$3" ;;
      background) convert_background "$2" "$3" ;;
    esac
    shift 3
  done
  exit 0
fi

# ---- options ------------------------------------------------------------------------------------
out="" shared="$here/../../shared/data" seed=1 babble=12 max_per_set=0 install=0 jobs=$(nproc) force=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --out) out=$2; shift 2 ;;
    --shared) shared=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --babble) babble=$2; shift 2 ;;
    --max-per-set) max_per_set=$2; shift 2 ;;
    --install) install=1; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --force) force=1; shift ;;
    -h | --help) usage ;;
    *) echo "gather_real_material.sh: unknown option '$1'" >&2; usage ;;
  esac
done
[[ -n $out ]] || { echo "gather_real_material.sh: --out is required" >&2; usage; }
for n in seed babble max_per_set; do
  [[ ${!n} =~ ^[0-9]+$ ]] || die "--${n//_/-} must be a non-negative integer, got '${!n}'"
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer, got '$jobs'"
command -v sox >/dev/null || die "sox is not installed (tools/install_deps.sh --data)"
if [[ -d $out && -n $(ls -A "$out" 2>/dev/null) ]]; then
  [[ $force == 1 ]] || die "'$out' is not empty; use --force to replace it"
  rm -rf "$out/speech" "$out/backgrounds" "$out/events" "$out/LICENCES.tsv"
fi
mkdir -p "$out/speech" "$out/backgrounds" "$out/events"
out=$(cd "$out" && pwd)
start_s=$SECONDS
rng_seed "$seed"

# Conversion jobs are collected first and run in parallel: kind <NUL> source <NUL> destination.
jobs_file=$(mktemp)
licences_file=$(mktemp)
trap 'rm -f "$jobs_file" "$licences_file"' EXIT
speech_rows=()     # destination <TAB> set <TAB> speaker <TAB> licence <TAB> source
background_rows=() # destination <TAB> set <TAB> licence <TAB> source
event_rows=()      # destination <TAB> set <TAB> licence <TAB> source

add_set_licence() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$licences_file"; }

# Sorted lines in, at most --max-per-set of them out, evenly spaced (the first N would be one
# language of ktuberling, whose names start with the language).
spread_cap() {
  awk -v keep="$max_per_set" '{ line[NR] = $0 }
    END {
      if (keep <= 0 || NR <= keep) { for (i = 1; i <= NR; i++) print line[i]; exit }
      for (i = 0; i < keep; i++) print line[int(i * NR / keep) + 1]
    }'
}

# A sorted list of files (capped by --max-per-set), one per line.
list_files() { # directory, find name pattern
  find "$1" -type f -name "$2" | LC_ALL=C sort | spread_cap
}

queue_speech() { # set, speaker, licence, source[, file name]
  local destination name
  name=${5:-$(basename "${4%.*}")}
  destination="speech/$1/$name.wav"
  printf 'speech\0%s\0%s\0' "$4" "$out/$destination" >>"$jobs_file"
  speech_rows+=("$destination"$'\t'"$1"$'\t'"$2"$'\t'"$3"$'\t'"$4")
}

# Events and backgrounds share a manifest layout: destination, set, licence, source.
queue_non_speech() { # kind (event|background), set, licence, source[, file name]
  local destination name folder row
  name=${5:-$(basename "${4%.*}")}
  folder=$([[ $1 == event ]] && echo events || echo backgrounds)
  destination="$folder/$2/$name.wav"
  printf '%s\0%s\0%s\0' "$1" "$4" "$out/$destination" >>"$jobs_file"
  row="$destination"$'\t'"$2"$'\t'"$3"$'\t'"$4"
  if [[ $1 == event ]]; then event_rows+=("$row"); else background_rows+=("$row"); fi
}
queue_event() { queue_non_speech event "$@"; }           # set, licence, source[, file name]
queue_background() { queue_non_speech background "$@"; } # set, licence, source[, file name]

# ---- the shared data folder -------------------------------------------------------------------
gather_shared() {
  if [[ ! -d $shared ]]; then
    note "no shared data at '$shared' (pass --shared DIR): skipping recordings"
    return
  fi
  shared=$(cd "$shared" && pwd)
  local licence dir set file name
  if [[ -d $shared/speech_commands_test ]]; then
    licence="CC-BY-4.0 (Speech Commands v0.02, Pete Warden / Google)"
    for dir in "$shared"/speech_commands_test/*/; do
      set="speech_commands_$(basename "$dir")"
      while IFS= read -r file; do
        name=$(basename "$file")
        # Speaker id: the hex field before "_nohash_" (after the word for _unknown_ files).
        local speaker=${name%%_nohash_*}
        speaker=${speaker##*_}
        queue_speech "$set" "speech_commands:$speaker" "$licence" "$file"
      done < <(list_files "$dir" '*.flac')
      add_set_licence "$set" speech "CC-BY-4.0" "Speech Commands v0.02 (Warden 2018), Google"
    done
  else
    note "no speech_commands_test in '$shared'"
  fi
  if [[ -d $shared/mycroft ]]; then
    licence="public domain waiver (Mycroft Precise community data, see mycroft/licenses/)"
    for dir in "$shared"/mycroft/*/; do
      set="mycroft_$(basename "$dir")"
      [[ $set == mycroft_licenses ]] && continue
      while IFS= read -r file; do
        queue_speech "$set" "mycroft:$(basename "$dir")" "$licence" "$file"
      done < <(list_files "$dir" '*.flac')
      add_set_licence "$set" speech "public domain" "Mycroft Precise community data"
    done
  else
    note "no mycroft folder in '$shared'"
  fi
  if [[ -d $shared/noise ]]; then
    for dir in "$shared"/noise/*/; do
      set="noise_$(basename "$dir")"
      case $set in
        noise_speech_commands) licence="CC-BY-4.0 (Speech Commands background noise)" ;;
        noise_mycroft_rooms) licence="public domain (Mycroft Precise community data)" ;;
        *) licence="see $dir" ;;
      esac
      while IFS= read -r file; do queue_background "$set" "$licence" "$file"; done < <(list_files "$dir" '*.flac')
      add_set_licence "$set" background "${licence%% (*}" "$dir"
    done
  else
    note "no noise folder in '$shared'"
  fi
}

# ---- Debian packages --------------------------------------------------------------------------
# package <TAB> kind <TAB> extended regex on the package's file list <TAB> licence <TAB> how
# many trailing path parts name a clip (packages reuse names across folders: digits/1,
# letters/1; en/alpha/A, fr/alpha/A)
# (sonic-pi: the drones, hums and hiss; its choir, piano and scratches are music, not rooms;
# ktuberling and klettres: people saying everyday words, letters and syllables in 22 and 19
# languages, many voices and phonemes that no English TTS voice has)
readonly debian_sets="asterisk-core-sounds-en-wav	speech	/asterisk/sounds/en[^/]*/(dictate/|digits/|followme/|letters/|phonetic/)?[^/]+\\.wav$	CC-BY-SA-3.0	2
scratch	speech	/Sounds/(Human|Vocals)/[^/]+\\.(wav|mp3)$	CC-BY-SA-3.0	2
ktuberling-data	speech	/ktuberling/sounds/[^/]+/[^/]+\\.(ogg|wav)$	GPL-2+	2
klettres-data	speech	/klettres/[^/]+/(alpha|syllab)/[^/]+\\.(ogg|wav)$	GPL-2+	3
scratch	event	/Sounds/(Animal|Effects|Electronic|Instruments|Percussion)/[^/]+\\.(wav|mp3)$	CC-BY-SA-3.0	2
scratch	background	/Sounds/Music Loops/[^/]+\\.(wav|mp3)$	CC-BY-SA-3.0	2
sonic-pi-samples	background	/(ambi_(drone|glass_hum|haunted_hum|sauna|soft_buzz|dark_woosh|lunar_land)|vinyl_hiss)\\.flac$	CC0-1.0	2
megaglest-data	background	/tilesets/[^/]+/sounds/(day|night|nightime|sunny_day|desertday|rain|wind|hell)\\.(ogg|wav)$	CC-BY-SA-3.0	3
megaglest-data	event	(/tilesets/[^/]+/sounds/(owl|rooster|chicken|wolf|hawk|mudchute_cow_1)|/water_sounds/water[0-9])\\.(ogg|wav)$	CC-BY-SA-3.0	3
tuxpaint-data	event	/tuxpaint/sounds/(bubble|click|eraser[12]|fill|flip|grow|harp|keyclick|line_(end|start)|mirror|paint[1-4]|scroll|shrink|stamp|thick|thin|typewriterbell)\\.(wav|ogg)$	GPL-2+	2"

package_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

install_small_packages() {
  # Only pure data packages of 50 MB at most; the larger ones in docs/materials.md are left to
  # the user.
  local packages=(asterisk-core-sounds-en-wav sonic-pi-samples scratch ktuberling-data klettres-data
    tuxpaint-data)
  note "installing ${packages[*]} (apt-get, about 170 MB)"
  apt-get install -y --no-install-recommends "${packages[@]}" >/dev/null ||
    note "apt-get install failed: continuing without them"
}

# The last `parts` parts of the path, joined by "_", without the extension and spaces (in
# REPLY: no subshell per file).
clip_name() { # path parts
  local rest=${1%.*} i
  REPLY=${rest##*/}
  for ((i = 1; i < $2; i++)); do
    rest=${rest%/*}
    REPLY="${rest##*/}_$REPLY"
  done
  REPLY=${REPLY// /_} # scratch's "Music Loops"
}

gather_debian() {
  local package kind pattern licence name_parts file set name
  while IFS=$'\t' read -r package kind pattern licence name_parts; do
    if ! package_installed "$package"; then
      note "Debian package $package not installed: skipping it"
      continue
    fi
    set="debian_$package"
    while IFS= read -r file; do
      clip_name "$file" "$name_parts"
      name=$REPLY
      case $kind in
        speech) queue_speech "$set" "$package" "$licence (/usr/share/doc/$package/copyright)" "$file" "$name" ;;
        event) queue_event "$set" "$licence (/usr/share/doc/$package/copyright)" "$file" "$name" ;;
        *) queue_background "$set" "$licence (/usr/share/doc/$package/copyright)" "$file" "$name" ;;
      esac
    done < <(dpkg -L "$package" | grep -E "$pattern" | LC_ALL=C sort | spread_cap)
    add_set_licence "$set" "$kind" "$licence" "Debian package $package, /usr/share/doc/$package/copyright"
  done <<<"$debian_sets"
}

# ---- made here ----------------------------------------------------------------------------------
# Babble: 4 to 6 streams, each real speech clips end to end in random order, mixed. Only
# clips that survived conversion are used; every stream runs 30 s.
make_babble() {
  local clips=() row
  for row in "${speech_rows[@]}"; do
    [[ -e $out/${row%%$'\t'*} ]] && clips+=("$out/${row%%$'\t'*}")
  done
  if ((${#clips[@]} < 20 || babble == 0)); then
    ((babble == 0)) || note "fewer than 20 speech clips: no babble made"
    return
  fi
  mkdir -p "$out/backgrounds/babble"
  local b s streams stream_files picked
  for ((b = 0; b < babble; b++)); do
    rand_between 4 6
    streams=$REPLY
    stream_files=()
    for ((s = 0; s < streams; s++)); do
      # 60 clips of 0.3-3 s always exceed 30 s.
      picked=()
      for ((n = 0; n < 60; n++)); do
        rand_below ${#clips[@]}
        picked+=("${clips[REPLY]}")
      done
      sox -R -q "${picked[@]}" "$out/backgrounds/babble/.stream$s.wav" trim 0 "$kGeneratedS"
      stream_files+=("$out/backgrounds/babble/.stream$s.wav")
    done
    local name
    name=$(printf 'babble_%03d.wav' "$b")
    sox -R -q -m "${stream_files[@]}" "$out/backgrounds/babble/$name" norm -3
    rm -f "${stream_files[@]}"
    background_rows+=("backgrounds/babble/$name"$'\t'"babble"$'\t'"the licences of the speech sets (LICENCES.tsv)"$'\t'"made by gather_real_material.sh: $streams streams")
  done
  local speech_licences
  speech_licences=$(awk -F'\t' '$2 == "speech" { print $3 }' "$licences_file" | sort -u | paste -sd, - | sed 's/,/, /g')
  add_set_licence babble background "mix of: $speech_licences" "mixed from OUT/speech"
}

# Coloured noise, mains hum and fan-like rumble, 30 s each, with random filter corners.
make_generated_noise() {
  local dir="$out/backgrounds/generated" colour corner name
  mkdir -p "$dir"
  generated() { # name, sox arguments...
    local file=$1
    shift
    sox -R -q -n -r 16000 -c 1 -b 16 "$dir/$file" "$@"
    background_rows+=("backgrounds/generated/$file"$'\t'"generated"$'\t'"CC0 (generated)"$'\t'"sox $*")
  }
  for colour in white pink brown; do
    generated "${colour}.wav" synth "$kGeneratedS" "${colour}noise" gain -10
    rand_between 800 4000
    corner=$REPLY
    generated "${colour}_lowpass${corner}.wav" synth "$kGeneratedS" "${colour}noise" lowpass "$corner" gain -6
  done
  for mains in 50 60; do
    name="hum${mains}.wav"
    generated "$name" synth "$kGeneratedS" sine "$mains" synth "$kGeneratedS" sine mix $((2 * mains)) \
      synth "$kGeneratedS" sine mix $((3 * mains)) synth "$kGeneratedS" pinknoise mix gain -12
  done
  for ((n = 0; n < 2; n++)); do
    rand_between 200 900
    corner=$REPLY
    generated "fan_${corner}.wav" synth "$kGeneratedS" brownnoise lowpass "$corner" tremolo 6 20 gain -3
  done
  add_set_licence generated background "CC0 (generated)" "sox synth"
}

# ---- run ------------------------------------------------------------------------------------------
((install == 0)) || install_small_packages
gather_shared
gather_debian
note "converting $(($(tr -cd '\0' <"$jobs_file" | wc -c) / 3)) files with up to $jobs workers"
# -x: a batch that would not fit a command line is an error, never a shifted triple.
xargs -0 -x -n $((3 * 16)) -P "$jobs" bash "$0" --worker <"$jobs_file"
make_babble
make_generated_noise

write_manifest() { # file, header, rows...
  local file=$1 header=$2 row count=0
  shift 2
  {
    printf '%s\n' "$header"
    for row in "$@"; do
      if [[ -e $out/${row%%$'\t'*} ]]; then
        printf '%s\n' "${row#*/}" # relative to the manifest's own folder
        count=$((count + 1))
      fi
    done
  } >"$file"
  REPLY=$count
}
write_manifest "$out/speech/manifest.tsv" $'file\tset\tspeaker\tlicence\tsource' "${speech_rows[@]}"
speech_count=$REPLY
write_manifest "$out/backgrounds/manifest.tsv" $'file\tset\tlicence\tsource' "${background_rows[@]}"
background_count=$REPLY
write_manifest "$out/events/manifest.tsv" $'file\tset\tlicence\tsource' "${event_rows[@]}"
event_count=$REPLY

{
  printf 'set\tkind\tclips\tlicence\tattribution\n'
  while IFS=$'\t' read -r set kind licence attribution; do
    case $kind in speech) folder=speech ;; event) folder=events ;; *) folder=backgrounds ;; esac
    count=$(find "$out/$folder/$set" -name '*.wav' 2>/dev/null | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\n' "$set" "$kind" "$count" "$licence" "$attribution"
  done <"$licences_file"
} >"$out/LICENCES.tsv"

note "$speech_count speech clips, $background_count backgrounds, $event_count events in $out ($((SECONDS - start_s)) s); licences in $out/LICENCES.tsv"
