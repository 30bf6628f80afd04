#!/bin/sh
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer
# (GCC's), in build-asan/. Any report fails the stage: -fno-sanitize-recover
# turns every UBSan finding into an exit, and ASan exits on its first error
# and on leaks.
#
# Tests only: the examples and benchmarks run no code the tests do not. -Og
# compiles about a third faster than -O1 under the sanitizers, and the tests
# run as fast (the slowest, test_gemm, 9 s either way); -g1 keeps file:line in
# the reports. NDEBUG stays undefined so that Eigen's assertions run too. The
# compile-fail and consumer tests are left out: they check compilation and
# packaging, not code that runs, and the main build runs them.
#
# OpenMP stays on, so that the parallel products are checked too; GCC's
# libgomp gives no false reports under ASan here (its thread pool stays
# reachable, so LeakSanitizer does not see it as a leak). No suppressions.
#
# Cost: about 17 CPU-minutes of compiling (34 test files) and 3 of testing,
# so about 10 minutes on 2 idle cores.
# Environment: JOBS (default 2) for the build and ctest.
set -eu
cd "$(dirname "$0")/../.."
jobs=${JOBS:-2}
start=$(date +%s)

flags="-Og -g1 -fno-omit-frame-pointer -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=all"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Sanitize \
  -DCMAKE_CXX_FLAGS_SANITIZE="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS_SANITIZE="-fsanitize=address,undefined,float-cast-overflow" \
  -DDESCENT_BUILD_TESTS=ON -DDESCENT_BUILD_EXAMPLES=OFF -DDESCENT_BUILD_BENCHMARKS=OFF >/dev/null

# Only the test executables (one per tests/test_*.cpp), not the compile-fail controls.
targets=$(for f in tests/test_*.cpp; do basename "$f" .cpp; done)
# shellcheck disable=SC2086 # one word per target
cmake --build build-asan -j"$jobs" --target $targets
built=$(date +%s)

# detect_stack_use_after_return: a pointer to a dead stack frame is caught too.
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir build-asan -j"$jobs" --output-on-failure -E "^(compile_fail|consumer): "
echo "sanitizers: built in $((built - start)) s, tests ran in $(( $(date +%s) - built )) s"
