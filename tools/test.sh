#!/usr/bin/env bash
# Sets up a fresh machine and runs the whole test suite three ways:
#   1. Release build (build/): every test.
#   2. ASan + UBSan build (build-asan/): every test but those of the synth/ data scripts
#      (ctest label "script"), which run no Earshot code; the benchmarks are not built.
#   3. TSan build (build-tsan/): the concurrency tests (ctest label "concurrency").
# Exits non-zero if any build or test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install_deps.sh --tests
jobs=$(nproc)
# Each stage header says how long the run has taken so far (CI logs show where time goes).
stage() { echo "== $* (${SECONDS} s into the run)"; }

configure_and_build() {  # build_dir, extra cmake args...
  local dir=$1
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$dir" -j"$jobs" "${build_targets[@]}"
  expect_every_executable_listed "$dir"
}

# Catch2's test discovery takes a test executable that crashes on start for one without
# tests, and ctest then skips all its tests without a word (the TSan build once lost 80 that
# way): every test executable a build made must have listed some.
expect_every_executable_listed() {  # build_dir
  local list lists=("$1"/*_tests-*.cmake)
  if [[ ! -e ${lists[0]} ]]; then
    echo "test.sh: $1 has no test lists (*_tests-*.cmake): Catch2's discovery did not run" >&2
    exit 1
  fi
  for list in "${lists[@]}"; do
    if ! grep -q add_test "$list"; then
      echo "test.sh: $list lists no tests: its executable failed to start" >&2
      exit 1
    fi
  done
}

stage "Release build: all tests"
build_targets=()
# Unity builds (CMakeLists.txt) compile the library a third faster; the TSan build below
# is not one, so that every library file is still compiled on its own as developers do.
configure_and_build build -DCMAKE_UNITY_BUILD=ON
ctest --test-dir build --output-on-failure -j"$jobs"

# The sanitizer builds link with lld: their executables are large (test_listen 72 MB) and GNU
# ld took 2.2 s for it, lld 0.9 s.
lld=-DCMAKE_EXE_LINKER_FLAGS=-fuse-ld=lld

stage "ASan + UBSan build: all tests but the data scripts"
build_targets=(--target earshot_tests)
configure_and_build build-asan -DEARSHOT_SANITIZE=address,undefined -DCMAKE_UNITY_BUILD=ON "$lld"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LSAN_OPTIONS="suppressions=$PWD/tools/lsan.supp" \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE script

stage "TSan build: concurrency tests"
build_targets=(--target earshot_concurrency_tests)
configure_and_build build-tsan -DEARSHOT_SANITIZE=thread "$lld"
TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/tools/tsan.supp" ctest --test-dir build-tsan --output-on-failure \
  -j"$jobs" -L concurrency
stage "all stages passed"
