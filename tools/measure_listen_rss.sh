#!/usr/bin/env bash
# Measures the resident memory of `earshot listen` while it captures from a real sound
# server: a private PulseAudio (tools/pulse_test_server.sh) whose default source is a
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
  sed -n '2,16p' "$0" >&2
  exit 2
fi
earshot=$1
model=${2:-$(dirname "$0")/../models/activate.earshot}
capture_s=${3:-10}

# shellcheck source=SCRIPTDIR/pulse_test_server.sh
source "$(dirname "$0")/pulse_test_server.sh"
require_tools pulseaudio pactl
setup_private_server earshot-rss
start_server
start_feeder "$work/silence.raw"  # silence only

"$earshot" listen --model "$model" --device pulse --status-every 0 >"$work/events.jsonl" \
  2>"$work/stderr.txt" &
daemon_pid=$!
wait_for_events 1 started "$work/events.jsonl" "$work/stderr.txt" 30 ||
  fail "earshot listen did not start within 30 s"

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

status=0
stop_daemon || status=$?
[ "$status" -eq 0 ] ||
  { cat "$work/stderr.txt" >&2; fail "earshot listen exited with status $status"; }
grep -q '"type":"error"' "$work/events.jsonl" && { cat "$work/events.jsonl" >&2; fail "earshot listen reported an error"; }

awk -v peak="$peak_kb" -v now="$now_kb" -v s="$capture_s" 'BEGIN {
  printf "earshot listen --device pulse, %s s of capture: peak RSS (VmHWM) %.1f MiB (%d kB), RSS at the end (VmRSS) %.1f MiB (%d kB)\n",
         s, peak / 1024, peak, now / 1024, now }'
