#!/usr/bin/env bash
# Runs `earshot listen` against a real sound server: a private PulseAudio whose default
# source is a pipe this script feeds with a recording, captured through PortAudio's ALSA
# backend and ALSA's "pulse" PCM (libasound2-plugins): the path a desktop microphone takes,
# minus the microphone.
#
#   tests/listen_pulseaudio.sh [--restart-server-after S [--hang-first-close SHIM]]
#                              EARSHOT MODEL RECORDING OUT [ARGS...]
#
# EARSHOT: the earshot executable; MODEL: a model file; RECORDING: an audio file (anything
# sox reads), played into the source in real time and followed by silence so the source's
# clock keeps running; OUT: where the daemon's JSON lines go; ARGS: more `listen` flags.
# The daemon starts first and the recording plays once it reports "started"; the pipe source
# delivers nothing before the first byte, so the daemon's time_s is time into the recording.
# 1.5 s after the recording ends the daemon gets SIGTERM.
#
# --restart-server-after S: after S seconds of the recording, kill the sound server (the
# daemon loses its device), start a new one, and play the rest once the daemon has reopened
# the device and reported "started" again.
# --hang-first-close SHIM: preload SHIM (hang_first_stream_abort, built with the tests) into
# the daemon, so that closing the lost stream never returns, as when the sound libraries
# deadlock; the daemon is expected to abandon it and reopen the device all the same.
#
# Exits 0 when the server ran and the daemon exited 0; otherwise 1 with the reason on
# stderr. Checking the detections is the caller's job (tests/test_listen_pulseaudio.cpp).
# Needs pulseaudio, pulseaudio-utils, libasound2-plugins, sox (tools/install_deps.sh --tests).
# The private server and its feeder come from tools/pulse_test_server.sh; like it, this
# works as root without a session bus.
set -euo pipefail

restart_after_s=""
preload=""
while [ $# -gt 0 ]; do
  case $1 in
    --restart-server-after) restart_after_s=$2 ;;
    --hang-first-close) preload=$2 ;;
    *) break ;;
  esac
  shift 2
done
if [ $# -lt 4 ]; then
  sed -n '2,28p' "$0" >&2
  exit 2
fi
earshot=$1 model=$2 recording=$3 out=$4
shift 4

# shellcheck source=SCRIPTDIR/../tools/pulse_test_server.sh
source "$(dirname "$0")/../tools/pulse_test_server.sh"
require_tools pulseaudio pactl sox soxi
setup_private_server earshot-pulse
use_sound_library_sanitizer_settings
# A preloaded library comes before the sanitizer's runtime, which ASan would refuse.
[ -z "$preload" ] || export ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"

# Waits until OUT holds at least $1 lines of type $2.
wait_for() {
  wait_for_events "$1" "$2" "$out" "$out" 60 ||
    fail "no $1 '$2' line(s) from earshot listen within 60 s"
}

# The recording in the pipe source's raw format, cut into 0.1 s pieces.
sox "$recording" -t raw -e signed-integer -b 16 -c 1 -r 16000 "$work/recording.raw"
mkdir "$work/pieces"
split -b 3200 -a 6 "$work/recording.raw" "$work/pieces/piece."
pieces=("$work"/pieces/piece.*)
recording_s=$(soxi -D "$recording")
seconds_for() { awk -v s="$1" 'BEGIN { print s * 1.05 + 0.5 }'; }  # 5 % for the feeder's overhead

start_server
# The daemon, through PortAudio -> ALSA "pulse" PCM -> the server's default source.
env ${preload:+"LD_PRELOAD=$preload"} "$earshot" listen --model "$model" --device pulse \
  --status-every 0 "$@" >"$out" &
daemon_pid=$!
wait_for 1 started

if [ -n "$restart_after_s" ]; then
  split_piece=$(awk -v s="$restart_after_s" 'BEGIN { printf "%d", s * 10 }')
  start_feeder "${pieces[@]:0:split_piece}"
  sleep "$(seconds_for "$restart_after_s")"
  stop_feeder
  stop_server
  wait_for 1 error  # the daemon noticed its device is gone
  start_server
  wait_for 2 started
  start_feeder "${pieces[@]:split_piece}"
  remaining_s=$(awk -v a="$recording_s" -v b="$restart_after_s" 'BEGIN { print a - b }')
  sleep "$(seconds_for "$remaining_s")"
else
  start_feeder "${pieces[@]}"
  sleep "$(seconds_for "$recording_s")"
fi
sleep 1

status=0
stop_daemon || status=$?
[ "$status" -eq 0 ] || fail "earshot listen exited with status $status"
