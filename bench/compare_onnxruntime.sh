#!/bin/sh
# descent's predict_proba against ONNX Runtime (onnxruntime-node, CPU) on the same exported
# model, 784-512-256-10 ReLU, at batch 1 and 128: medians of ROUNDS rounds of SECONDS each,
# descent and ONNX Runtime run twice each, alternately, on THREADS threads (both).
#   bench/compare_onnxruntime.sh                 # from the source tree, with build/ configured
#   THREADS=2 bench/compare_onnxruntime.sh
#   SECONDS_PER_ROUND=0.01 ROUNDS=3 bench/compare_onnxruntime.sh   # a smoke run, not a timing
# Builds bench_onnx_inference in BUILD (default build/), installs onnxruntime-node from
# tests/onnx/package-lock.json into BUILD/tests/onnx/npm if the tests have not, and prints each
# run's lines, then the ratio of samples/s (descent / ONNX Runtime) per batch from the best runs.
set -eu
cd "$(dirname "$0")/.."
build=${BUILD:-build}
threads=${THREADS:-1}
seconds=${SECONDS_PER_ROUND:-0.2}
rounds=${ROUNDS:-15}
cmake --build "$build" --target bench_onnx_inference >/dev/null
npm_dir=$build/tests/onnx/npm
sh tests/onnx/client.sh npm tests/onnx "$npm_dir" >/dev/null
model=$build/bench/onnx_inference.onnx
out=$build/bench/onnx_inference.txt
: >"$out"
run=$build/bench/onnx_inference.run
for round in 1 2; do
  # Through a file rather than a pipe, so that a failing run stops the script (set -e).
  "$build/bench/bench_onnx_inference" "$model" --threads "$threads" --seconds "$seconds" --rounds "$rounds" >"$run"
  cat "$run" >>"$out"
  cat "$run"
  node bench/onnx_inference.cjs "$npm_dir/node_modules" "$model" "$threads" "$seconds" "$rounds" >"$run"
  cat "$run" >>"$out"
  cat "$run"
done
# Per batch: the best of the two runs for each (the machine's noise only slows a run down).
awk '
  /batch=/ {
    who = ($1 == "descent") ? "descent" : "ort"
    for (i = 2; i <= NF; ++i) { split($i, kv, "="); v[kv[1]] = kv[2] }
    b = v["batch"]; s = v["samples_per_s"] + 0
    if (s > best[who, b]) best[who, b] = s
    batches[b] = 1
  }
  END {
    for (b in batches)
      printf "batch %s: descent %.0f samples/s, ONNX Runtime %.0f samples/s, ratio %.2f\n", b, best["descent", b], best["ort", b], best["descent", b] / best["ort", b]
  }' "$out"
