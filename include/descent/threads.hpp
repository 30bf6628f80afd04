#pragma once
// How many cores descent's matrix products may use.
//
// Threads come from descent's own pool (detail/thread_pool.hpp): threads() - 1
// workers started at the first product worth splitting, the calling thread
// being the last. A product is split only when each part is worth a fork and a
// join, never from inside a split product (no threads times threads), and a
// second thread of the program that calls descent while the pool is in use
// runs its products alone rather than wait.
//
// The same count is given to Eigen (Eigen::setNbThreads), whose own products
// use threads only in a program built with OpenMP.
#include <Eigen/Core>
#include <string>

#include "detail/thread_pool.hpp"
#include "error.hpp"

namespace descent {

// requires: count >= 1; throws argument_error otherwise.
// ensures: threads() == count; the pool has count - 1 workers from its next use
// (at once when it is idle: threads it no longer needs are joined here).
// Call it between training steps, not while another thread runs products.
inline void set_threads(int count) {
    if (count < 1)
        throw argument_error("set_threads: the thread count must be at least 1, got " +
                             std::to_string(count));
    detail::thread_count_setting().store(count, std::memory_order_relaxed);
    Eigen::setNbThreads(count);
    if (detail::ThreadPool* pool = detail::global_pool()) pool->resize(count - 1);
}

// The most threads one product may use: set_threads()'s count or, when it was
// never called, OMP_NUM_THREADS when set, else the cores this process may use.
inline int threads() {
    return detail::thread_count();
}

}  // namespace descent
