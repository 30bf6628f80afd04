#!/bin/sh
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer, built
# with clang in build-asan/. Any report fails the stage: -fno-sanitize-recover
# turns every UBSan finding into an exit, and ASan exits on its first error
# and on leaks.
#
# Tests only: the examples and benchmarks run no code the tests do not. clang at
# -O1 rather than GCC at -Og, because the instrumented tests compile faster
# (test_checkpoint.cpp, busy machine, CPU time: 75 s against GCC's 105 s at -Og
# and 153 s at -O1), and because GCC 12's ASan allocator deadlocks in the thread
# pool's fork test, which clang's runs (12 runs out of 12); the main build is
# GCC's, so the suite meets both compilers. -g1 keeps file:line in the reports.
# NDEBUG stays undefined so that Eigen's assertions run too. The compile-fail and
# consumer tests are left out, and not built (DESCENT_TESTS lists the test files):
# they check compilation and packaging, not code that runs, and the main build
# runs them.
#
# descent's own thread pool runs here as in the normal build, so the parallel
# products are checked too. No suppressions.
#
# Environment: JOBS (default 2) for the build and ctest.
set -eu
cd "$(dirname "$0")/../.."
jobs=${JOBS:-2}
start=$(date +%s)

tests=$(for f in tests/test_*.cpp; do basename "$f" .cpp; done | paste -s -d ';' -)
flags="-O1 -g1 -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all"
cmake -S . -B build-asan -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Sanitize \
  -DCMAKE_CXX_FLAGS_SANITIZE="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS_SANITIZE="-fsanitize=address,undefined,float-cast-overflow" \
  -DDESCENT_TESTS="$tests" -DDESCENT_BUILD_TESTS=ON -DDESCENT_BUILD_EXAMPLES=OFF -DDESCENT_BUILD_BENCHMARKS=OFF >/dev/null

# Everything the tests need (one target: CMake's Makefiles build several
# --target arguments one after the other, whatever -j says).
cmake --build build-asan -j"$jobs"
built=$(date +%s)

# detect_stack_use_after_return: a pointer to a dead stack frame is caught too.
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir build-asan -j"$jobs" --output-on-failure
echo "sanitizers: built in $((built - start)) s, tests ran in $(( $(date +%s) - built )) s"
