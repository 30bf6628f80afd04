#!/bin/sh
# descent's examples/train_csv against scikit-learn (Debian's python3-sklearn, 1.2) on iris,
# wine, breast cancer and diabetes, the same splits for both, 5 seeds (bench/compare_sklearn.py
# says more). Builds train_csv in build/ (or $BUILD) first if needed.
#   bench/compare_sklearn.sh [--seeds N]
set -e
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
[ -d "$build" ] || cmake -S "$root" -B "$build" -DDESCENT_BUILD_BENCHMARKS=OFF
cmake --build "$build" -j2 --target train_csv
# scikit-learn is Debian's, for /usr/bin/python3 only: not the first python3 on PATH.
exec /usr/bin/python3 "$root/bench/compare_sklearn.py" --example "$build/examples/train_csv" "$@"
