#!/usr/bin/env bash
# Runs `earshot listen` against a real sound server: a private PulseAudio whose default
# source is a pipe this script feeds with a recording, captured through PortAudio's ALSA
# backend and ALSA's "pulse" PCM (libasound2-plugins): the path a desktop microphone takes,
# minus the microphone.
#
#   tests/listen_pulseaudio.sh [--restart-server-after S] EARSHOT MODEL RECORDING OUT [ARGS...]
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
#
# Exits 0 when the server ran and the daemon exited 0; otherwise 1 with the reason on
# stderr. Checking the detections is the caller's job (tests/test_listen_pulseaudio.cpp).
# Needs pulseaudio, pulseaudio-utils, libasound2-plugins, sox (tools/install_deps.sh --tests).
# Works as root without a session bus: all state lives in a temporary runtime directory,
# and the server is stopped by the pid it wrote there.
set -euo pipefail

restart_after_s=""
if [ "${1:-}" = "--restart-server-after" ]; then
  restart_after_s=$2
  shift 2
fi
if [ $# -lt 4 ]; then
  sed -n '2,25p' "$0" >&2
  exit 2
fi
earshot=$1 model=$2 recording=$3 out=$4
shift 4

for tool in pulseaudio pactl sox soxi; do
  command -v "$tool" >/dev/null ||
    { echo "listen_pulseaudio.sh: '$tool' is missing (tools/install_deps.sh --tests)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/earshot-pulse.XXXXXX")
export XDG_RUNTIME_DIR=$work/run
export PULSE_SERVER=unix:$XDG_RUNTIME_DIR/pulse/native
# No autospawned server and no cookie: the test server allows anonymous local clients.
printf 'autospawn = no\n' >"$work/client.conf"
export PULSE_CLIENTCONFIG=$work/client.conf
export HOME=$work  # pulseaudio and libpulse keep their state under $HOME
mkdir -m 700 "$XDG_RUNTIME_DIR"
fifo=$work/mic.fifo
# Under ThreadSanitizer (the TSan pass of tools/test.sh), what TSan reports inside the sound
# libraries (races and mutex misuse in libpulse, lock order in libasound) is theirs, not
# Earshot's: they are not instrumented and synchronise in ways TSan cannot see. Earshot's
# side of the capture path is covered by the in-process TSan tests. Harmless elsewhere.
printf '%s\n' race:libpulse.so race:libpulsecommon mutex:libpulsecommon deadlock:libasound deadlock:libpulse called_from_lib:libpulse.so.0 >"$work/tsan.supp"
export TSAN_OPTIONS="${TSAN_OPTIONS:-} suppressions=$work/tsan.supp"
# Under AddressSanitizer, PortAudio's device scan makes ALSA load and unload its plugin
# modules; what they leave allocated is reported against an "<unknown module>" that no
# suppression can name, so the leak check is off for this daemon. Its own code is
# leak-checked by the --input tests of the daemon.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"

server_pid="" feeder_pid="" daemon_pid=""

stop_server() {
  if [ -f "$XDG_RUNTIME_DIR/pulse/pid" ]; then
    kill "$(cat "$XDG_RUNTIME_DIR/pulse/pid")" 2>/dev/null || true
  fi
  if [ -n "$server_pid" ]; then wait "$server_pid" 2>/dev/null || true; fi
  server_pid=""
  rm -f "$fifo"  # module-pipe-source makes the FIFO itself and refuses an existing one
}

stop_feeder() {
  if [ -n "$feeder_pid" ]; then
    kill "$feeder_pid" 2>/dev/null || true
    wait "$feeder_pid" 2>/dev/null || true
  fi
  feeder_pid=""
}

cleanup() {
  if [ -n "$daemon_pid" ]; then
    kill "$daemon_pid" 2>/dev/null || true
    wait "$daemon_pid" 2>/dev/null || true
  fi
  stop_feeder
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "listen_pulseaudio.sh: $*" >&2
  if [ -f "$work/pulse.log" ]; then tail -n 20 "$work/pulse.log" >&2; fi
  exit 1
}

# The server, with exactly the modules the test needs (-n: no default.pa).
start_server() {
  pulseaudio -n --daemonize=no --exit-idle-time=-1 --system=false --use-pid-file=yes \
    -F /dev/null --log-target="file:$work/pulse.log" \
    -L "module-native-protocol-unix auth-anonymous=1" \
    -L "module-pipe-source source_name=earshot_test_mic file=$fifo format=s16le rate=16000 channels=1" \
    -L "module-always-sink" &
  server_pid=$!
  for _ in $(seq 100); do
    if pactl info >/dev/null 2>&1 && [ -p "$fifo" ]; then break; fi
    kill -0 "$server_pid" 2>/dev/null || fail "pulseaudio exited at start-up"
    sleep 0.1
  done
  pactl info >/dev/null 2>&1 || fail "pulseaudio did not come up within 10 s"
  pactl set-default-source earshot_test_mic
}

# Waits until OUT holds at least $1 lines of type $2.
wait_for_events() {
  local count=$1 type=$2
  for _ in $(seq 600); do
    if [ "$(grep -c "\"type\":\"$type\"" "$out" 2>/dev/null || true)" -ge "$count" ]; then return 0; fi
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$out" >&2; fail "earshot listen exited early"; }
    sleep 0.1
  done
  fail "no $count '$type' line(s) from earshot listen within 60 s"
}

# Plays pieces [first, last) of the recording in real time, then silence until killed. A
# pipe source is clocked by its writer, so the writer keeps time itself.
start_feeder() {
  local first=$1 last=$2
  (
    exec 3>"$fifo"
    for ((i = first; i < last; i++)); do
      cat "${pieces[$i]}" >&3
      sleep 0.1
    done
    while true; do
      cat "$work/silence.raw" >&3
      sleep 0.1
    done
  ) &
  feeder_pid=$!
}

# The recording in the pipe source's raw format, cut into 0.1 s pieces.
sox "$recording" -t raw -e signed-integer -b 16 -c 1 -r 16000 "$work/recording.raw"
mkdir "$work/pieces"
split -b 3200 -a 6 "$work/recording.raw" "$work/pieces/piece."
pieces=("$work"/pieces/piece.*)
head -c 3200 /dev/zero >"$work/silence.raw"
recording_s=$(soxi -D "$recording")
seconds_for() { awk -v s="$1" 'BEGIN { print s * 1.05 + 0.5 }'; }  # 5 % for the feeder's overhead

start_server
# The daemon, through PortAudio -> ALSA "pulse" PCM -> the server's default source.
"$earshot" listen --model "$model" --device pulse --status-every 0 "$@" >"$out" &
daemon_pid=$!
wait_for_events 1 started

if [ -n "$restart_after_s" ]; then
  split_piece=$(awk -v s="$restart_after_s" 'BEGIN { printf "%d", s * 10 }')
  start_feeder 0 "$split_piece"
  sleep "$(seconds_for "$restart_after_s")"
  stop_feeder
  stop_server
  wait_for_events 1 error  # the daemon noticed its device is gone
  start_server
  wait_for_events 2 started
  start_feeder "$split_piece" "${#pieces[@]}"
  remaining_s=$(awk -v a="$recording_s" -v b="$restart_after_s" 'BEGIN { print a - b }')
  sleep "$(seconds_for "$remaining_s")"
else
  start_feeder 0 "${#pieces[@]}"
  sleep "$(seconds_for "$recording_s")"
fi
sleep 1

kill -TERM "$daemon_pid"
status=0
wait "$daemon_pid" || status=$?
daemon_pid=""
[ "$status" -eq 0 ] || fail "earshot listen exited with status $status"
