# shellcheck shell=bash
# A private PulseAudio server for scripts that run `earshot listen --device pulse` against
# a real sound server (tests/listen_pulseaudio.sh, tests/listen_hung_device.sh,
# tools/measure_listen_rss.sh). Sourced, not run, by a script that has `set -euo pipefail`; error messages start with that script's
# name (pulse_script, set here from $0). The server's default source is a pipe
# (module-pipe-source) that a feeder writes in real time; the daemon reaches it through
# PortAudio's ALSA backend and ALSA's "pulse" PCM. Works as root without a session bus: all
# state lives in a temporary runtime directory, and the server is stopped by the pid it
# wrote there.
#
#   require_tools TOOL...  Fails unless every TOOL is on PATH.
#   setup_private_server PREFIX
#                          Makes the work directory and points PulseAudio clients at the
#                          private server. Sets: work (a new directory ${TMPDIR:-/tmp}/PREFIX.*,
#                          removed on exit), fifo (the pipe the source reads), server_pid,
#                          feeder_pid, daemon_pid (empty; the caller sets daemon_pid when it
#                          starts the daemon). Exports XDG_RUNTIME_DIR, PULSE_SERVER,
#                          PULSE_CLIENTCONFIG (autospawn off) and HOME. Writes
#                          $work/silence.raw (0.1 s of silence) and traps EXIT with cleanup.
#   start_server           Starts the server with the pipe source as its default source and
#                          waits (10 s at most) until it answers. Sets server_pid. Its log is
#                          $work/pulse.log.
#   use_sound_library_sanitizer_settings
#                          Sets TSAN_OPTIONS and ASAN_OPTIONS for a sanitizer build of the
#                          daemon talking to the sound libraries (harmless otherwise).
#   stop_server            Stops the server and removes the pipe. Clears server_pid.
#   start_feeder FILE...   Writes each FILE (raw s16le, 16 kHz, mono; 0.1 s each) into the
#                          pipe, then silence, every 0.1 s until stopped: a pipe source is
#                          clocked by its writer, so the writer keeps time itself. Sets feeder_pid.
#   stop_feeder            Stops the feeder. Clears feeder_pid.
#   wait_for_events COUNT TYPE EVENTS DUMP SECONDS
#                          Waits until the JSON-lines file EVENTS holds COUNT lines of type
#                          TYPE; returns 1 after SECONDS without them. If the daemon
#                          (daemon_pid) exits first, shows DUMP on stderr and fails.
#   stop_daemon            Sends the daemon SIGTERM, waits for it and returns its exit
#                          status. Clears daemon_pid.
#   fail MESSAGE           Prints "$pulse_script: MESSAGE" and the end of the server's log
#                          on stderr and exits 1.
#   cleanup                Stops the daemon, the feeder and the server; removes $work.

pulse_script=$(basename "$0")

fail() {
  echo "$pulse_script: $*" >&2
  if [ -n "${work:-}" ] && [ -f "$work/pulse.log" ]; then tail -n 20 "$work/pulse.log" >&2; fi
  exit 1
}

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null ||
      { echo "$pulse_script: '$tool' is missing (tools/install_deps.sh --tests)" >&2; exit 1; }
  done
}

setup_private_server() {
  server_pid="" feeder_pid="" daemon_pid=""
  work=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
  trap cleanup EXIT
  export XDG_RUNTIME_DIR=$work/run
  export PULSE_SERVER=unix:$XDG_RUNTIME_DIR/pulse/native
  # No autospawned server and no cookie: the private server allows anonymous local clients.
  printf 'autospawn = no\n' >"$work/client.conf"
  export PULSE_CLIENTCONFIG=$work/client.conf
  export HOME=$work  # pulseaudio and libpulse keep their state under $HOME
  mkdir -m 700 "$XDG_RUNTIME_DIR"
  fifo=$work/mic.fifo
  head -c 3200 /dev/zero >"$work/silence.raw"
}

# The server, with exactly the modules the scripts need (-n: no default.pa).
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

use_sound_library_sanitizer_settings() {
  # Under ThreadSanitizer (the TSan pass of tools/test.sh), what TSan reports inside the sound
  # libraries (races and mutex misuse in libpulse, lock order in libasound) is theirs, not
  # Earshot's: they are not instrumented and synchronise in ways TSan cannot see. Earshot's
  # side of the capture path is covered by the in-process TSan tests. This set replaces
  # tools/tsan.supp for the daemon on purpose (the last suppressions= wins): that file's
  # called_from_lib:libasound.so.2 makes TSan stop the daemon with "thread finished with
  # ignores enabled" once ALSA's threads end.
  printf '%s\n' race:libpulse.so race:libpulsecommon mutex:libpulsecommon deadlock:libasound \
    deadlock:libpulse called_from_lib:libpulse.so.0 >"$work/tsan.supp"
  export TSAN_OPTIONS="${TSAN_OPTIONS:-} suppressions=$work/tsan.supp"
  # Under AddressSanitizer, PortAudio's device scan makes ALSA load and unload its plugin
  # modules; what they leave allocated is reported against an "<unknown module>" that no
  # suppression can name, so the leak check is off for this daemon. Its own code is
  # leak-checked by the --input tests of the daemon.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
}

stop_server() {
  if [ -f "$XDG_RUNTIME_DIR/pulse/pid" ]; then
    kill "$(cat "$XDG_RUNTIME_DIR/pulse/pid")" 2>/dev/null || true
  fi
  if [ -n "$server_pid" ]; then wait "$server_pid" 2>/dev/null || true; fi
  server_pid=""
  rm -f "$fifo"  # module-pipe-source makes the FIFO itself and refuses an existing one
}

start_feeder() {
  (
    exec 3>"$fifo"
    for piece in "$@"; do
      cat "$piece" >&3
      sleep 0.1
    done
    while true; do
      cat "$work/silence.raw" >&3
      sleep 0.1
    done
  ) &
  feeder_pid=$!
}

# Ends a child process, if there is one, and reaps it.
end_process() {
  if [ -n "$1" ]; then
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
  fi
}

stop_feeder() {
  end_process "$feeder_pid"
  feeder_pid=""
}

wait_for_events() {
  local count=$1 type=$2 events=$3 dump=$4 seconds=$5
  for _ in $(seq $((seconds * 10))); do
    if [ "$(grep -c "\"type\":\"$type\"" "$events" 2>/dev/null || true)" -ge "$count" ]; then return 0; fi
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$dump" >&2; fail "earshot listen exited early"; }
    sleep 0.1
  done
  return 1
}

stop_daemon() {
  local status=0
  kill -TERM "$daemon_pid"
  wait "$daemon_pid" || status=$?
  daemon_pid=""
  return "$status"
}

cleanup() {
  end_process "$daemon_pid"
  daemon_pid=""
  stop_feeder
  stop_server
  rm -rf "$work"
}
