#!/usr/bin/env bash
# Runs `earshot listen --device pulse` where a call into the sound libraries hangs: against a
# sound server that is frozen (SIGSTOP) before the daemon starts (the server's socket still
# accepts connections but nothing answers, so opening the device hangs inside the sound
# libraries, as it does when a sound server is stuck), or, with --preload, against a running
# server with stand-ins that break PortAudio calls (a start that hangs, or one that fails
# and then a close that hangs), or, with --freeze-when-started, against a server that freezes
# once the daemon listens (so the stream is lost and the reopen hangs).
#
#   tests/listen_hung_device.sh [--stop-after S | --stop-when-hung]
#                               [--preload 'SHIM...' | --freeze-when-started]
#                               EARSHOT MODEL OUT [ARGS...]
#
# OUT: where the daemon's JSON lines go; OUT.status gets the daemon's exit status, or
# "killed" if it had not ended 60 s after it started (it is then killed). ARGS: more
# `listen` flags. --stop-after S: send the daemon SIGTERM S seconds after it is ready
# for one (its signal thread runs). --stop-when-hung: send it SIGTERM as soon as a preloaded
# stand-in has begun to hang (however long the calls before it took under load).
# --preload 'SHIM...': preload these stand-ins
# (tests/support/break_first_call.c, built with the tests; several separated by spaces)
# into the daemon and leave the server running. --freeze-when-started: leave the server
# running until the daemon's "started" line, then freeze it.
# Exits 0 when the scenario ran, whatever the daemon did (checking that is the caller's job,
# tests/test_listen_pulseaudio.cpp); otherwise 1 with the reason on stderr.
# Needs pulseaudio and pulseaudio-utils (tools/install_deps.sh --tests).
set -euo pipefail

stop_after_s=""
stop_when_hung=0
preload=""
freeze_when_started=0
while [ $# -gt 0 ]; do
  case $1 in
    --stop-after) stop_after_s=$2 ;;
    --stop-when-hung)
      stop_when_hung=1
      shift
      continue
      ;;
    --freeze-when-started)
      freeze_when_started=1
      shift
      continue
      ;;
    --preload) preload=$2 ;;
    *) break ;;
  esac
  shift 2
done
if [ $# -lt 3 ]; then
  sed -n '2,25p' "$0" >&2
  exit 2
fi
earshot=$1 model=$2 out=$3
shift 3

# shellcheck source=SCRIPTDIR/../tools/pulse_test_server.sh
source "$(dirname "$0")/../tools/pulse_test_server.sh"
require_tools pulseaudio pactl
setup_private_server earshot-hung
use_sound_library_sanitizer_settings
# A preloaded library comes before the sanitizer's runtime, which ASan would refuse.
[ -z "$preload" ] || export ASAN_OPTIONS="$ASAN_OPTIONS:verify_asan_link_order=0"

start_server
freeze_server() {
  frozen_server=$server_pid
  kill -STOP "$frozen_server"
  # A stopped process cannot end: let it go on before the clean-up stops it.
  trap 'kill -CONT "$frozen_server" 2>/dev/null || true; cleanup' EXIT
}
if [ -z "$preload" ] && [ "$freeze_when_started" = 0 ]; then
  freeze_server
fi

export EARSHOT_HUNG_MARK=$work/hung  # created by a stand-in once it hangs
env ${preload:+"LD_PRELOAD=$preload"} "$earshot" listen --model "$model" --device pulse \
  --status-every 0 "$@" >"$out" &
daemon_pid=$!
if [ "$freeze_when_started" = 1 ]; then
  for _ in $(seq 300); do
    grep -q '"type":"started"' "$out" 2>/dev/null && break
    kill -0 "$daemon_pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q '"type":"started"' "$out" 2>/dev/null; then
    echo "listen_hung_device.sh: the daemon did not start listening within 30 s" >&2
    exit 1
  fi
  freeze_server
fi
if [ -n "$stop_after_s" ] || [ "$stop_when_hung" = 1 ]; then
  # The daemon blocks SIGTERM once its signal thread runs (after loading the model); a SIGTERM
  # before that would kill it outright, which is not the case under test.
  for _ in $(seq 300); do
    blocked=$(awk '/^SigBlk:/ { print $2 }' "/proc/$daemon_pid/status" 2>/dev/null || true)
    [ -n "$blocked" ] && (((16#$blocked >> 14) & 1)) && break
    sleep 0.1
  done
  if [ "$stop_when_hung" = 1 ]; then
    for _ in $(seq 600); do
      [ -e "$EARSHOT_HUNG_MARK" ] && break
      kill -0 "$daemon_pid" 2>/dev/null || break
      sleep 0.1
    done
  else
    sleep "$stop_after_s"
  fi
  kill -TERM "$daemon_pid" 2>/dev/null || true
fi
for _ in $(seq 600); do
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$daemon_pid" 2>/dev/null; then
  kill -KILL "$daemon_pid"
  wait "$daemon_pid" 2>/dev/null || true
  echo killed >"$out.status"
else
  status=0
  wait "$daemon_pid" || status=$?
  echo "$status" >"$out.status"
fi
daemon_pid=""
