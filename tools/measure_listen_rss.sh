#!/usr/bin/env bash
# Measures the resident memory of `earshot listen` while it captures from a real sound
# server: a private PulseAudio (as in tests/listen_pulseaudio.sh) whose default source is a
# pipe fed with silence in real time, captured through PortAudio's ALSA backend and ALSA's
# "pulse" PCM, the path a desktop microphone takes.
#
#   tools/measure_listen_rss.sh [--details] EARSHOT [MODEL] [SECONDS]
#
# EARSHOT: the earshot executable; MODEL: a model file (default models/activate.earshot);
# SECONDS: how long the daemon captures before it is asked to stop (default 10).
# Prints the daemon's peak resident memory (VmHWM) and its resident memory at the end
# (VmRSS), in MiB and in the kernel's kB (KiB). --details adds the 15
# mappings with the most resident memory, summed per file, and the shared libraries the
# daemon has loaded.
# Exits 0 when the daemon captured and exited 0; otherwise 1 with the reason on stderr.
# Needs pulseaudio and pulseaudio-utils (tools/install_deps.sh --tests).
set -euo pipefail

details=0
if [ "${1:-}" = "--details" ]; then
  details=1
  shift
fi
if [ $# -lt 1 ]; then
  sed -n '2,17p' "$0" >&2
  exit 2
fi
earshot=$1
model=${2:-$(dirname "$0")/../models/activate.earshot}
capture_s=${3:-10}

for tool in pulseaudio pactl; do
  command -v "$tool" >/dev/null ||
    { echo "measure_listen_rss.sh: '$tool' is missing (tools/install_deps.sh --tests)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/earshot-rss.XXXXXX")
export XDG_RUNTIME_DIR=$work/run
export PULSE_SERVER=unix:$XDG_RUNTIME_DIR/pulse/native
printf 'autospawn = no\n' >"$work/client.conf"
export PULSE_CLIENTCONFIG=$work/client.conf
export HOME=$work
mkdir -m 700 "$XDG_RUNTIME_DIR"
fifo=$work/mic.fifo
server_pid="" feeder_pid="" daemon_pid=""

cleanup() {
  for pid in "$daemon_pid" "$feeder_pid"; do
    if [ -n "$pid" ]; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
  if [ -f "$XDG_RUNTIME_DIR/pulse/pid" ]; then
    kill "$(cat "$XDG_RUNTIME_DIR/pulse/pid")" 2>/dev/null || true
  fi
  if [ -n "$server_pid" ]; then wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "measure_listen_rss.sh: $*" >&2
  exit 1
}

pulseaudio -n --daemonize=no --exit-idle-time=-1 --system=false --use-pid-file=yes \
  -F /dev/null --log-target="file:$work/pulse.log" \
  -L "module-native-protocol-unix auth-anonymous=1" \
  -L "module-pipe-source source_name=earshot_rss_mic file=$fifo format=s16le rate=16000 channels=1" \
  -L "module-always-sink" &
server_pid=$!
for _ in $(seq 100); do
  if pactl info >/dev/null 2>&1 && [ -p "$fifo" ]; then break; fi
  kill -0 "$server_pid" 2>/dev/null || fail "pulseaudio exited at start-up"
  sleep 0.1
done
pactl info >/dev/null 2>&1 || fail "pulseaudio did not come up within 10 s"
pactl set-default-source earshot_rss_mic

# 0.1 s of silence every 0.1 s: a pipe source is clocked by its writer.
head -c 3200 /dev/zero >"$work/silence.raw"
(
  exec 3>"$fifo"
  while true; do
    cat "$work/silence.raw" >&3
    sleep 0.1
  done
) &
feeder_pid=$!

"$earshot" listen --model "$model" --device pulse --status-every 0 >"$work/events.jsonl" \
  2>"$work/stderr.txt" &
daemon_pid=$!
for _ in $(seq 300); do
  grep -q '"type":"started"' "$work/events.jsonl" 2>/dev/null && break
  kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/stderr.txt" >&2; fail "earshot listen exited early"; }
  sleep 0.1
done
grep -q '"type":"started"' "$work/events.jsonl" || fail "earshot listen did not start within 30 s"

sleep "$capture_s"
status_file=/proc/$daemon_pid/status
peak_kb=$(awk '/^VmHWM:/ { print $2 }' "$status_file")
now_kb=$(awk '/^VmRSS:/ { print $2 }' "$status_file")
if [ "$details" = 1 ]; then
  echo "largest resident mappings (kB, summed per file):"
  awk '/^[0-9a-f]+-[0-9a-f]+ / { name = (NF >= 6 ? $6 : "[anonymous]") }
       /^Rss:/ { rss[name] += $2 }
       END { for (n in rss) printf "%8d  %s\n", rss[n], n }' "/proc/$daemon_pid/smaps" |
    sort -rn | head -n 15
  echo "shared libraries loaded: $(awk '$6 ~ /\.so/ { print $6 }' "/proc/$daemon_pid/maps" | sort -u | wc -l)"
fi

kill -TERM "$daemon_pid"
status=0
wait "$daemon_pid" || status=$?
daemon_pid=""
[ "$status" -eq 0 ] || { cat "$work/stderr.txt" >&2; fail "earshot listen exited with status $status"; }
grep -q '"type":"error"' "$work/events.jsonl" && { cat "$work/events.jsonl" >&2; fail "earshot listen reported an error"; }

awk -v peak="$peak_kb" -v now="$now_kb" -v s="$capture_s" 'BEGIN {
  printf "earshot listen --device pulse, %s s of capture: peak RSS (VmHWM) %.1f MiB (%d kB), RSS at the end (VmRSS) %.1f MiB (%d kB)\n",
         s, peak / 1024, peak, now / 1024, now }'
