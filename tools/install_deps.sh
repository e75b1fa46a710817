#!/usr/bin/env bash
# Installs everything Earshot needs to build, test and synthesize data, from Debian
# packages only. Safe to run again: it installs only what is missing.
#   tools/install_deps.sh            build + run dependencies
#   tools/install_deps.sh --tests    also the packages the test suite uses
#   tools/install_deps.sh --data     also the TTS voices and real-audio packages for training data
#   tools/install_deps.sh --accented-voices   also festival's non-English voices
set -euo pipefail

build_packages=(
  build-essential cmake pkg-config
  portaudio19-dev libkissfft-dev libsndfile1-dev libeigen3-dev libsoxr-dev
  libbenchmark-dev catch2 libcli11-dev nlohmann-json3-dev libfmt-dev
)
# Three of festival's non-English voices, one per text encoding its front ends read, for the
# accented-voice test of synth/make_tts_clips.sh.
accented_test_voices=(festival festvox-czech-dita festvox-suopuhe-mv festvox-hi-nsk festival-hi)
test_packages=(
  espeak-ng sox libsox-fmt-all
  pulseaudio pulseaudio-utils libasound2-plugins alsa-utils
  "${accented_test_voices[@]}"
  scratch # its sound events, for the make_model.sh test
  praat   # synth/make_pseudo_speakers.sh's test
  ktuberling-data klettres-data tuxpaint-data # synth/gather_real_material.sh's test
  lld     # links the sanitizer builds of tools/test.sh faster than GNU ld
)
data_packages=(
  espeak-ng sox libsox-fmt-all flite
  festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts festlex-cmu festlex-poslex
  scratch # sound events and music loops (synth/gather_real_material.sh)
  ktuberling-data klettres-data tuxpaint-data # words in 22 languages, letters, tool sounds
  praat   # new speakers from TTS voices (synth/make_pseudo_speakers.sh)
)
# make_tts_clips.sh --engines ...,festival-accented (synth/respellings.tsv): Czech, Finnish,
# Italian, Catalan, Russian (179 MB), Hindi, Marathi, Telugu voices.
accented_packages=(
  festival festvox-czech-dita festvox-czech-krb festvox-czech-machac festvox-czech-ph
  festvox-suopuhe-lj festvox-suopuhe-mv festvox-italp16k festvox-itapc16k festvox-ca-ona-hts
  festvox-ru festvox-hi-nsk festvox-mr-nsk festvox-te-nsk festival-hi festival-mr festival-te
)

wanted=("${build_packages[@]}")
for arg in "$@"; do
  case "$arg" in
    --tests) wanted+=("${test_packages[@]}") ;;
    --data) wanted+=("${data_packages[@]}") ;;
    --accented-voices) wanted+=("${accented_packages[@]}") ;;
    *) echo "install_deps.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
else
  sudo_cmd=()
fi
echo "install_deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
