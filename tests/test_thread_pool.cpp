// detail::ThreadPool and run_on_threads: each index of a task runs exactly once,
// index 0 on the caller, the others on the workers or, when no worker has claimed
// them yet, on the caller; a pool in use by another thread, or
// a call from inside a task, leaves the work to the caller alone; workers that
// spin or sleep are woken and joined; set_threads resizes the global pool; and
// a process (a child made by fork() included) exits cleanly with a started pool.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <descent/detail/thread_pool.hpp>
#include <descent/threads.hpp>
#include <iostream>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#define DESCENT_TEST_POSIX 1
#endif

#include "support.hpp"

namespace {

using descent::detail::ThreadPool;
using namespace std::chrono_literals;

// Runs f through a pool, a lambda passed as the task's context.
template <class F>
int run(ThreadPool& pool, int count, F& f) {
    return pool.try_run(
        count, [](void* context, int i, int n) { (*static_cast<F*>(context))(i, n); }, &f);
}

// Waits until flag is set, for at most 10 s (a test that would hang fails instead).
bool eventually(const std::atomic<bool>& flag) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!flag.load()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(100us);
    }
    return true;
}

// Calls f on another thread, and ends the test process when it has not returned
// within 10 s: the hang of a join must fail the test, not stall ctest.
template <class F>
void returns_in_time(F f, const char* what) {
    std::atomic<bool> done{false};
    std::thread t([&] {
        f();
        done = true;
    });
    if (!eventually(done)) {
        std::cerr << "test_thread_pool: " << what << " did not return within 10 s\n";
        std::_Exit(2);
    }
    t.join();
}

}  // namespace

TEST_CASE("Every index of a task runs exactly once, index 0 on the caller", "[thread_pool]") {
    for (int workers = 0; workers <= 3; ++workers) {
        ThreadPool pool(workers);
        CHECK(pool.workers() == workers);
        CHECK(pool.running() == 0);  // threads start at the first run
        for (int count = 1; count <= 5; ++count) {
            CAPTURE(workers, count);
            const int expected = count < 2 || workers == 0 ? 0 : std::min(count, workers + 1);
            bool all_right = true;
            for (int repeat = 0; repeat < 200; ++repeat) {
                std::array<std::atomic<int>, 8> runs{};
                std::array<std::atomic<int>, 8> seen_count{};
                std::array<std::thread::id, 8> on{};
                auto task = [&](int i, int n) {
                    runs[static_cast<std::size_t>(i)].fetch_add(1);
                    seen_count[static_cast<std::size_t>(i)] = n;
                    on[static_cast<std::size_t>(i)] = std::this_thread::get_id();
                };
                const int n = run(pool, count, task);
                all_right = all_right && n == expected;
                for (int i = 0; i < 8; ++i)
                    all_right = all_right && runs[static_cast<std::size_t>(i)] == (i < n ? 1 : 0) &&
                                (i >= n || seen_count[static_cast<std::size_t>(i)] == n);
                if (n > 0) all_right = all_right && on[0] == std::this_thread::get_id();
            }
            CHECK(all_right);
        }
        CHECK(pool.running() == workers);
    }
}

TEST_CASE("The workers run the other shares while the caller runs its own", "[thread_pool]") {
    ThreadPool pool(3);
    for (int repeat = 0; repeat < 20; ++repeat) {
        std::atomic<int> others_done{0};
        std::atomic<bool> waited{false};
        std::array<std::thread::id, 4> on{};
        auto task = [&](int i, int) {
            on[static_cast<std::size_t>(i)] = std::this_thread::get_id();
            if (i != 0) {
                others_done.fetch_add(1);
                return;
            }
            // Share 0 ends only once the three others are done: by the workers, then.
            const auto deadline = std::chrono::steady_clock::now() + 10s;
            while (others_done.load() < 3 && std::chrono::steady_clock::now() < deadline)
                std::this_thread::yield();
            waited = others_done.load() == 3;
        };
        REQUIRE(run(pool, 4, task) == 4);
        CHECK(waited);
        const std::set<std::thread::id> distinct(on.begin(), on.end());
        CHECK(distinct.size() >= 2);
        CHECK(distinct.count(std::this_thread::get_id()) == 1);
    }
}

#if defined(__linux__)
TEST_CASE("The caller takes the shares that no worker has claimed", "[thread_pool]") {
    // On one core, a woken worker often gets it only after the caller is done with
    // its own share: the caller must then run the worker's share itself, not wait.
    int stolen = 0, runs = 0;
    bool all_right = true, pinned = false;
    std::thread on_one_core([&] {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(sched_getcpu() < 0 ? 0 : sched_getcpu(), &one);
        pinned = sched_setaffinity(0, sizeof one, &one) == 0;  // this thread, and the workers it starts
        ThreadPool pool(1);
        const auto me = std::this_thread::get_id();
        for (; runs < 3000 && stolen < 10; ++runs) {
            std::array<int, 2> hits{};
            std::array<std::thread::id, 2> on{};
            auto task = [&](int i, int) {
                ++hits[static_cast<std::size_t>(i)];
                on[static_cast<std::size_t>(i)] = std::this_thread::get_id();
            };
            all_right = all_right && run(pool, 2, task) == 2 && hits[0] == 1 && hits[1] == 1;
            if (on[1] == me) ++stolen;
        }
    });
    on_one_core.join();
    CAPTURE(runs);
    CHECK(all_right);
    if (pinned) CHECK(stolen > 0);
}
#endif

TEST_CASE("Workers that went to sleep wake for the next task, and a sleeping caller for the last worker",
          "[thread_pool]") {
    ThreadPool pool(2);
    std::atomic<long> sum{0};
    auto task = [&](int i, int) {
        if (i == 2) std::this_thread::sleep_for(200us);  // longer than the spin: the caller blocks
        sum.fetch_add(i + 1);
    };
    for (int repeat = 0; repeat < 40; ++repeat) {
        CHECK(run(pool, 3, task) == 3);
        std::this_thread::sleep_for(repeat % 2 == 0 ? 2ms : 10us);  // asleep, or still spinning
    }
    CHECK(sum == 40 * (1 + 2 + 3));
}

TEST_CASE("run_on_threads gives the same sums on 1 to 4 threads", "[thread_pool]") {
    const int saved = descent::threads();
    std::vector<long> values(100003);
    std::iota(values.begin(), values.end(), -500L);
    const long expected = std::accumulate(values.begin(), values.end(), 0L);
    for (int threads = 1; threads <= 4; ++threads) {
        CAPTURE(threads);
        descent::set_threads(threads);
        for (int repeat = 0; repeat < 50; ++repeat) {
            std::array<long, 4> partial{};
            int used = 0;
            descent::detail::run_on_threads(threads, [&](int i, int n) {
                if (i == 0) used = n;
                const std::size_t size = values.size(), begin = size * std::size_t(i) / std::size_t(n),
                                  end = size * std::size_t(i + 1) / std::size_t(n);
                long s = 0;
                for (std::size_t t = begin; t < end; ++t) s += values[t];
                partial[static_cast<std::size_t>(i)] = s;
            });
            REQUIRE(used == threads);
            CHECK(std::accumulate(partial.begin(), partial.end(), 0L) == expected);
        }
    }
    descent::set_threads(saved);
}

TEST_CASE("A second user thread finds the pool in use and runs its work alone", "[thread_pool]") {
    const int saved = descent::threads();
    descent::set_threads(2);
    std::atomic<bool> entered{false}, release{false}, other_done{false};
    std::atomic<int> first_runs{0}, first_count{0};
    std::thread first([&] {
        descent::detail::run_on_threads(2, [&](int i, int n) {
            first_count = n;
            first_runs.fetch_add(1);
            if (i == 0) {
                entered = true;
                eventually(release);  // holds the pool until the other thread is done
            }
        });
    });
    REQUIRE(eventually(entered));
    int second_i = -1, second_n = -1;
    std::thread::id second_on;
    descent::detail::run_on_threads(2, [&](int i, int n) {
        second_i = i;
        second_n = n;
        second_on = std::this_thread::get_id();
    });
    other_done = true;
    release = true;
    first.join();
    CHECK(second_i == 0);
    CHECK(second_n == 1);  // alone, not waiting for the pool
    CHECK(second_on == std::this_thread::get_id());
    CHECK(first_runs == 2);
    CHECK(first_count == 2);
    // The pool is free again: the next call splits.
    int n_after = 0;
    descent::detail::run_on_threads(2, [&](int i, int n) {
        if (i == 0) n_after = n;
    });
    CHECK(n_after == 2);
    descent::set_threads(saved);
}

TEST_CASE("A call from inside a task runs serially on its thread", "[thread_pool]") {
    const int saved = descent::threads();
    descent::set_threads(3);
    CHECK_FALSE(descent::detail::in_pool_task());
    std::array<int, 3> inner_count{}, inner_runs{};
    std::array<bool, 3> same_thread{}, inside{};
    ThreadPool other(2);  // another pool is refused too: no threads times threads
    std::array<int, 3> other_result{-1, -1, -1};
    descent::detail::run_on_threads(3, [&](int i, int) {
        const auto me = std::this_thread::get_id();
        const auto k = static_cast<std::size_t>(i);
        inside[k] = descent::detail::in_pool_task();
        descent::detail::run_on_threads(3, [&](int, int n) {
            inner_count[k] = n;
            ++inner_runs[k];
            same_thread[k] = std::this_thread::get_id() == me;
        });
        auto nothing = [](int, int) {};
        other_result[k] = run(other, 3, nothing);
    });
    CHECK_FALSE(descent::detail::in_pool_task());  // the caller's flag is restored
    for (std::size_t k = 0; k < 3; ++k) {
        CAPTURE(k);
        CHECK(inside[k]);
        CHECK(inner_count[k] == 1);
        CHECK(inner_runs[k] == 1);
        CHECK(same_thread[k]);
        CHECK(other_result[k] == 0);
    }
    descent::set_threads(saved);
}

TEST_CASE("An exception of the caller's share is rethrown once the workers are done", "[thread_pool]") {
    ThreadPool pool(1);
    std::atomic<bool> worker_done{false};
    auto task = [&](int i, int) {
        if (i == 0) throw std::runtime_error("share 0 failed");
        std::this_thread::sleep_for(5ms);
        worker_done = true;
    };
    CHECK_THROWS_WITH(run(pool, 2, task), "share 0 failed");
    CHECK(worker_done);
    auto fine = [](int, int) {};
    CHECK(run(pool, 2, fine) == 2);  // and the pool is free again
}

TEST_CASE("Destroying a pool joins its workers, spinning, asleep or never started", "[thread_pool]") {
    auto nothing = [](int, int) {};
    returns_in_time([] { ThreadPool never_started(3); }, "a pool that never ran");
    returns_in_time(
        [&] {
            ThreadPool spinning(3);
            run(spinning, 4, nothing);
        },
        "a pool whose workers spin");
    returns_in_time(
        [&] {
            ThreadPool sleeping(3);
            run(sleeping, 4, nothing);
            std::this_thread::sleep_for(20ms);
        },
        "a pool whose workers sleep");
    returns_in_time(
        [&] {
            for (int i = 0; i < 50; ++i) {
                ThreadPool pool(i % 4);
                run(pool, 4, nothing);
            }
        },
        "50 pools made and destroyed");
}

TEST_CASE("set_threads resizes the global pool, between uses", "[thread_pool]") {
    const int saved = descent::threads();
    ThreadPool* pool = descent::detail::global_pool();
    REQUIRE(pool != nullptr);
    auto split = [] {
        int used = 0;
        descent::detail::run_on_threads(8, [&](int i, int n) {
            if (i == 0) used = n;
        });
        return used;
    };
    descent::set_threads(3);
    CHECK(pool->workers() == 2);
    CHECK(split() == 3);
    CHECK(pool->running() == 2);
    descent::set_threads(1);  // an idle pool joins the workers it no longer needs at once
    CHECK(pool->workers() == 0);
    CHECK(pool->running() == 0);
    CHECK(split() == 1);
    descent::set_threads(2);  // and starts new ones at its next use
    CHECK(pool->running() == 0);
    CHECK(split() == 2);
    CHECK(pool->running() == 1);
    descent::set_threads(4);
    CHECK(pool->running() == 3);
    CHECK(split() == 4);
    descent::set_threads(saved);
}

#ifdef DESCENT_TEST_POSIX
namespace {

// Forks; the child runs child() and exits with its result through std::exit, so
// that static destructors (the global pool's among them) run. Returns the child's
// exit status, or -1 when it did not end within 20 s (then it is killed).
template <class F>
int exit_status_of_child(F child) {
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        alarm(30);  // a child that hangs dies, even if the parent cannot kill it
        std::exit(child() ? 0 : 1);
    }
    if (pid < 0) return -2;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(1ms);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -3;
}

bool sums_right(int threads) {
    descent::set_threads(threads);
    for (int repeat = 0; repeat < 100; ++repeat) {
        std::array<int, 4> hits{};
        int used = 0;
        descent::detail::run_on_threads(threads, [&](int i, int n) {
            hits[static_cast<std::size_t>(i)] = i + 1;
            if (i == 0) used = n;
        });
        if (used != threads) return false;
        for (int i = 0; i < threads; ++i)
            if (hits[static_cast<std::size_t>(i)] != i + 1) return false;
    }
    return true;
}

}  // namespace

TEST_CASE(
    "A process with a started pool exits, its workers joined, and a forked child gets a pool of its own",
    "[thread_pool]") {
    const int saved = descent::threads();
    // The parent's pool runs, so a child inherits a pool whose workers it does not have.
    REQUIRE(sums_right(2));
    REQUIRE(descent::detail::global_pool()->running() == 1);
    // Exits right after the last task, its workers still spinning.
    CHECK(exit_status_of_child([] { return sums_right(2) && sums_right(3); }) == 0);
    // Exits with its workers asleep.
    CHECK(exit_status_of_child([] {
              const bool right = sums_right(3);
              std::this_thread::sleep_for(20ms);
              return right;
          }) == 0);
    // Exits without ever running a task (the inherited pool is never used).
    CHECK(exit_status_of_child([] { return true; }) == 0);
    descent::set_threads(saved);
}

TEST_CASE("The default count is OMP_NUM_THREADS's first entry when set, else the cores", "[thread_pool]") {
    const char* saved = std::getenv("OMP_NUM_THREADS");
    const std::string kept = saved ? saved : "";
    unsetenv("OMP_NUM_THREADS");
    const int cores = descent::detail::default_thread_count();
    CHECK(cores >= 1);
    CHECK(cores <= static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
    setenv("OMP_NUM_THREADS", "3,2", 1);
    CHECK(descent::detail::default_thread_count() == 3);
    setenv("OMP_NUM_THREADS", "0", 1);  // not a count: the cores
    CHECK(descent::detail::default_thread_count() == cores);
    setenv("OMP_NUM_THREADS", "many", 1);
    CHECK(descent::detail::default_thread_count() == cores);
    if (saved)
        setenv("OMP_NUM_THREADS", kept.c_str(), 1);
    else
        unsetenv("OMP_NUM_THREADS");
}
#endif
