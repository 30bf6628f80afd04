#!/bin/sh
# Two builds of a few tests each, in build-tsan/ and build-plain/:
#
# 1. ThreadSanitizer (GCC's) over descent's threads: the pool (test_thread_pool), set_threads
#    (test_threads), the products cut into slabs across threads (test_gemm) and fit, whose
#    products run on 2 threads (test_fit: "fit on 2 threads trains as on 1", and its other
#    cases on the default count). Any report fails the stage (halt_on_error). Left out: the
#    pool's fork test, which starts threads in the child of a threaded parent, which
#    ThreadSanitizer does not support.
#
# 2. Plain Eigen products (-DDESCENT_PLAIN_EIGEN_PRODUCTS, detail/gemm.hpp): the fallback for
#    another Eigen, EIGEN_USE_BLAS or by choice, which no other build compiles, under the tests
#    of what the products compute (test_gemm, test_dense, test_mlp, and test_gradient_check,
#    which checks every product of backpropagation against finite differences), so that it
#    cannot rot. Release, as users build.
#
# Environment: JOBS (default 2) for the builds and ctest.
set -eu
cd "$(dirname "$0")/../.."
jobs=${JOBS:-2}
start=$(date +%s)

# -O1: ThreadSanitizer's documented level (-O0 runs the products far slower, -O2 compiles longer).
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Tsan \
  -DCMAKE_CXX_FLAGS_TSAN="-O1 -g1 -fsanitize=thread" -DCMAKE_EXE_LINKER_FLAGS_TSAN="-fsanitize=thread" \
  -DDESCENT_TESTS="test_thread_pool;test_threads;test_gemm;test_fit" \
  -DDESCENT_BUILD_TESTS=ON -DDESCENT_BUILD_EXAMPLES=OFF -DDESCENT_BUILD_BENCHMARKS=OFF >/dev/null
# One target, all of it: CMake's Makefiles build several --target arguments one after the other.
cmake --build build-tsan -j"$jobs"
built=$(date +%s)
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build-tsan -j"$jobs" --output-on-failure -E "^test_thread_pool:A process with a started pool exits"
echo "threads: ThreadSanitizer build in $((built - start)) s, tests in $(( $(date +%s) - built )) s"

start=$(date +%s)
cmake -S . -B build-plain -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-DDESCENT_PLAIN_EIGEN_PRODUCTS \
  -DDESCENT_TESTS="test_gemm;test_dense;test_mlp;test_gradient_check" \
  -DDESCENT_BUILD_TESTS=ON -DDESCENT_BUILD_EXAMPLES=OFF -DDESCENT_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-plain -j"$jobs"
built=$(date +%s)
ctest --test-dir build-plain -j"$jobs" --output-on-failure
echo "threads: plain Eigen products build in $((built - start)) s, tests in $(( $(date +%s) - built )) s"
