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
# descent's own thread pool runs here as in the normal build, so the parallel
# products are checked too. No suppressions.
#
# Cost: 18 CPU-minutes of compiling (34 test files) and 2 of testing: 11
# minutes on 2 cores (10.4 to build, under a minute to test).
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

# Everything the tests need (one target: CMake's Makefiles build several
# --target arguments one after the other, whatever -j says).
cmake --build build-asan -j"$jobs"
built=$(date +%s)

# detect_stack_use_after_return: a pointer to a dead stack frame is caught too.
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# Also left out: the thread pool's fork test. It forks while the pool's workers
# are starting and starts threads in the child; GCC 12's ASan allocator has no
# fork handlers, so a lock a parent's thread held at the fork stays held in the
# child, whose next thread deadlocks in ASan's malloc (glibc's malloc locks its
# arenas around fork: the normal build is fine and runs the test).
ctest --test-dir build-asan -j"$jobs" --output-on-failure \
  -E "^(compile_fail|consumer): |^test_thread_pool:A process with a started pool exits"
echo "sanitizers: built in $((built - start)) s, tests ran in $(( $(date +%s) - built )) s"
