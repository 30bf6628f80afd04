#!/bin/sh
# Data-parallel training over MPI (descent/distributed/, DESCENT_MPI=ON) in build-mpi/:
# builds the MPI tests and the fashion_mnist_mpi example only, then runs every test
# labelled mpi, each under mpirun on 2 ranks (--oversubscribe, as CI has 2 cores and
# other work; --allow-run-as-root, as CI runs as root). Tests and the example's one
# epoch take about 30 s; the build about 4 minutes at -j1, less at -j2.
#
# Environment: JOBS (default 2) for the build.
set -eu
cd "$(dirname "$0")/../.."
jobs=${JOBS:-2}
start=$(date +%s)

cmake -S . -B build-mpi -DCMAKE_BUILD_TYPE=Release -DDESCENT_MPI=ON \
  -DDESCENT_BUILD_TESTS=ON -DDESCENT_BUILD_EXAMPLES=ON -DDESCENT_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-mpi -j"$jobs" --target test_mpi test_distributed_fit mpi_failing_rank fashion_mnist_mpi
built=$(date +%s)

# One test at a time: each already runs 2 processes on the 2 cores. The bound ends a hung
# job (a rank waiting for one that left) rather than the whole CI run.
ctest --test-dir build-mpi -L mpi --output-on-failure --timeout 300
echo "mpi: built in $((built - start)) s, tests ran in $(( $(date +%s) - built )) s"
