#!/bin/sh
# Fuzzing: the libFuzzer harnesses of tests/fuzz/ (one per reader: IDX, CSV,
# model files, ...), built with clang under ASan and UBSan in build-fuzz/,
# each run for FUZZ_SECONDS (default 60) from the generated seed corpus plus
# whatever corpus earlier runs left in build-fuzz/corpus/. Any crash, leak,
# sanitizer report, hang (-timeout) or over-large allocation fails the stage;
# the input that caused it is kept in build-fuzz/artifacts/ and goes, as bytes,
# into tests/test_fuzz_regressions.cpp.
#
# The allocation bound: inputs are at most 4 KiB (-max_len; 16 KiB for
# checkpoints), and no single block may exceed 32 MiB (-malloc_limit_mb). A
# 4 KiB gzip stream inflates to at most ~4 MiB, and the readers hold at most a
# few copies of what a file really contains, so a larger block can only come
# from believing a size a header claims.
#
# Takes about a minute to build, then FUZZ_SECONDS for every JOBS harnesses
# (4 harnesses, 2 at a time: 2 minutes).
# Environment: JOBS (default 2) for the build and the harnesses run at once,
# FUZZ_SECONDS.
set -eu
cd "$(dirname "$0")/../.."
jobs=${JOBS:-2}
seconds=${FUZZ_SECONDS:-60}
start=$(date +%s)

cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Fuzz -DDESCENT_FUZZ=ON \
  -DDESCENT_BUILD_TESTS=OFF -DDESCENT_BUILD_EXAMPLES=OFF -DDESCENT_BUILD_BENCHMARKS=OFF >/dev/null
harnesses=$(for f in tests/fuzz/fuzz_*.cpp; do basename "$f" .cpp; done)
# All of it (the harnesses and the seeds) as one target: CMake's Makefiles
# build several --target arguments one after the other, whatever -j says.
cmake --build build-fuzz -j"$jobs"
echo "fuzz: built in $(( $(date +%s) - start )) s"

bin=build-fuzz/tests/fuzz
mkdir -p build-fuzz/artifacts

# One harness: its exit status goes to build-fuzz/<harness>.status.
fuzz() {
  harness=$1
  reader=${harness#fuzz_}
  corpus=build-fuzz/corpus/$reader
  mkdir -p "$corpus"
  seeds=$bin/seeds/$reader
  [ -d "$seeds" ] || seeds=""
  max_len=4096
  [ "$reader" = checkpoint ] && max_len=16384  # a checkpoint holds the engine's 5 KB of text
  status=0
  # shellcheck disable=SC2086 # no seeds: no argument
  "$bin/$harness" -max_total_time="$seconds" -timeout=10 -max_len=$max_len -rss_limit_mb=2048 \
    -malloc_limit_mb=32 -print_final_stats=1 -artifact_prefix="build-fuzz/artifacts/$harness-" \
    "$corpus" $seeds >"build-fuzz/$harness.log" 2>&1 || status=$?
  echo "$status" >"build-fuzz/$harness.status"
}

# $jobs harnesses at a time: each is one process on one core.
running=0
for harness in $harnesses; do
  fuzz "$harness" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait
    running=0
  fi
done
wait

failed=""
for harness in $harnesses; do
  log=build-fuzz/$harness.log
  if [ "$(cat "build-fuzz/$harness.status")" = 0 ]; then
    echo "$harness: $(grep -E '^Done [0-9]+ runs' "$log" | tail -n 1)" \
      "($(grep -E '^stat::peak_rss_mb' "$log" | awk '{print $2}') MB peak)"
  else
    echo "$harness: FAILED, the end of $log:"
    tail -n 60 "$log"
    failed="$failed $harness"
  fi
done
echo "fuzz: done in $(( $(date +%s) - start )) s"
if [ -n "$failed" ]; then
  echo "fuzz: failures in:$failed (inputs in build-fuzz/artifacts/)"
  exit 1
fi
