#!/usr/bin/env bash
# Sets up a fresh machine, builds Earshot, and labels the bundled example recording with
# the shipped "activate" model, printing an Audacity label track (start, end, keyword) and
# the word positions the recording was made with, for comparison.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install_deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target earshot

example=models/examples/activate_example.wav
echo "== Detections of 'activate' in $example (start, end, keyword):"
build/earshot label --model models/activate.earshot "$example"
echo "== Where the word was actually spoken:"
cat models/examples/activate_example.txt
echo "== Detections in models/examples/negative_example.wav (other words only; expected none):"
build/earshot label --model models/activate.earshot models/examples/negative_example.wav
