#pragma once
// How many cores descent's matrix products may use.
//
// Threads come from OpenMP, and only when descent is built with it (the CMake
// option DESCENT_OPENMP, on by default when the compiler has OpenMP). Without
// OpenMP everything runs on the calling thread and set_threads() only checks
// its argument.
//
// One count governs both descent's own parallel products and Eigen's
// (Eigen::setNbThreads), so that the two never add up to more threads than
// asked for. A product is split only when each part is worth a fork and a
// join, and never from inside a parallel region that is already running: a
// user's own `#pragma omp parallel` around descent gets one thread per call,
// not threads times threads.
#include <Eigen/Core>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "error.hpp"

namespace descent {

// requires: count >= 1; throws argument_error otherwise.
// ensures: threads() == count when descent has OpenMP, 1 without it.
// Not for concurrent use with running products: call it between training steps.
inline void set_threads(int count) {
    if (count < 1)
        throw argument_error("set_threads: the thread count must be at least 1, got " +
                             std::to_string(count));
    Eigen::setNbThreads(count);
#ifdef _OPENMP
    omp_set_num_threads(count);
#endif
}

// The most threads one product may use: set_threads()'s count, or OpenMP's
// default (OMP_NUM_THREADS, else one per core) when it was never called.
inline int threads() {
#ifdef _OPENMP
    return Eigen::nbThreads();
#else
    return 1;
#endif
}

}  // namespace descent
