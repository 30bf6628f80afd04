#pragma once
// descent's own threads for its parallel matrix products: one persistent pool of
// threads() - 1 workers, and the caller as the last thread.
//
// Why not OpenMP (which the products used before): a product is forked and
// joined several times per training step, and libgomp's idle threads spin at
// each join and between regions (OMP_WAIT_POLICY=active by default, for about
// 300000 iterations). On a shared machine a spinning thread holds the core the
// thread it waits for needs, and 2 threads ran several times slower than 1
// (bench/README.md, "Threads", has the figures). OMP_WAIT_POLICY=passive cures
// it, but that variable is read before main, so a library cannot set it for its
// users.
//
// Here an idle thread spins only briefly (spin_for, with a pause and then
// yields), then blocks on a futex (std::atomic::wait): a quiet machine keeps a
// fork and join of a few microseconds, a busy one loses at most spin_for per
// wait instead of a time slice. The caller waits for the workers the same way,
// but only for shares a worker has begun: once done with its own, the caller
// takes every share no worker has claimed yet, so a worker that is not given a
// core makes the product serial, never later than that.
//
// Rules that keep it from deadlocking or oversubscribing:
// - One caller at a time: a second user thread that finds the pool in use (a
//   try-lock) runs its work alone, on its own thread.
// - Nested calls (from inside a task) run serially on the calling thread.
// - Tasks are a function pointer and a context pointer: no allocation per task.
// - resize() never blocks: when the pool is in use, the new size applies at its
//   next use. Threads start at the first use, so a program that never runs a
//   product large enough starts none.
// - The global pool joins its workers when the program exits, and a child made
//   by fork() (which inherits no threads) starts a pool of its own.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif
#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define DESCENT_POOL_ATFORK 1
#else
#define DESCENT_POOL_ATFORK 0
#endif
#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <immintrin.h>
#endif

namespace descent::detail {

// How long an idle thread spins before it blocks: long enough to catch the next
// product of a training step on a quiet machine, short enough that a busy one
// loses little. After yield_after it yields at each check, so that a thread
// waiting for a core (perhaps the very one it waits for) gets it.
inline constexpr std::chrono::microseconds spin_for{40};
inline constexpr std::chrono::microseconds yield_after{5};

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
    _mm_pause();
#endif
}

// A 32-bit value that threads wait on: spin, then block with std::atomic::wait.
// It counts its own sleepers so that a change wakes the futex only when someone
// sleeps on it (libstdc++'s own count is shared between unrelated addresses).
// Every change is a sequentially consistent read-modify-write followed by a read
// of the sleepers, and a sleeper counts itself before its last look at the value:
// one of the two always sees the other, so no wake-up is lost.
class Signal {
public:
    std::uint32_t load() const noexcept { return value_.load(std::memory_order_acquire); }

    // Sets the value without waking anyone (nobody waits for this change).
    void reset(std::uint32_t value) noexcept { value_.store(value, std::memory_order_relaxed); }

    std::uint32_t exchange(std::uint32_t value) noexcept { return value_.exchange(value); }

    // value += delta (modulo 2^32), waking the sleepers; returns the new value.
    std::uint32_t add(std::uint32_t delta) noexcept {
        const std::uint32_t now = value_.fetch_add(delta) + delta;
        wake();
        return now;
    }

    // value -= 1, waking the sleepers only when it reaches 0.
    void count_down() noexcept {
        if (value_.fetch_sub(1) == 1) wake();
    }

    void set(std::uint32_t value) noexcept {
        value_.exchange(value);
        wake();
    }

    // Waits until done(value) and returns that value (read with acquire).
    template <class Done>
    std::uint32_t await(Done done) const noexcept {
        using clock = std::chrono::steady_clock;
        std::uint32_t now = load();
        if (done(now)) return now;
        const auto start = clock::now();
        for (unsigned i = 1;; ++i) {
            cpu_relax();
            now = load();
            if (done(now)) return now;
            if (i % 16 == 0) {
                const auto waited = clock::now() - start;
                if (waited >= spin_for) break;
                if (waited >= yield_after) std::this_thread::yield();
            }
        }
        sleepers_.fetch_add(1);
        for (;;) {
            now = value_.load();
            if (done(now)) break;
            value_.wait(now);
        }
        sleepers_.fetch_sub(1, std::memory_order_relaxed);
        return now;  // read with seq_cst, which includes acquire
    }

private:
    void wake() noexcept {
        if (sleepers_.load() != 0) value_.notify_all();
    }

    std::atomic<std::uint32_t> value_{0};
    mutable std::atomic<std::uint32_t> sleepers_{0};
};

// True on a pool's workers, and on a caller while it runs its own share.
inline bool& in_pool_task() noexcept {
    thread_local bool inside = false;
    return inside;
}

// What a task runs: fn(context, i, n) for its index i of n.
using Task = void (*)(void* context, int index, int count);

class ThreadPool {
public:
    // A pool of `workers` threads (besides the caller), started at its first run.
    explicit ThreadPool(int workers = 0) noexcept : wanted_(workers < 0 ? 0 : workers) {}
    ~ThreadPool() {
        lock();
        stop();
    }
    ThreadPool(const ThreadPool&) = delete;
    ThreadPool& operator=(const ThreadPool&) = delete;

    // Runs fn(context, i, n) once for each i in [0, n), n = min(count, workers() + 1),
    // and returns n once all are done: i = 0 on the calling thread, each other i on
    // whichever thread claims it first, a worker or the caller once its own share is
    // done (so a worker that the machine gives no core to delays nothing). Returns 0,
    // having run nothing, when count < 2, when the pool is in use by another thread,
    // when called from inside a task, or when no worker can be started: the caller
    // then does the work alone.
    // requires: fn does not throw on a worker (std::terminate); an exception on the
    // caller is rethrown once every share is done.
    int try_run(int count, Task fn, void* context) {
        if (count < 2 || in_pool_task()) return 0;
        if (busy_.exchange(1) != 0) return 0;
        struct Release {
            Signal& busy;
            ~Release() { busy.set(0); }
        } release{busy_};
        if (started_ != wanted_.load(std::memory_order_relaxed) && !restart()) return 0;
        int n = count < started_ + 1 ? count : started_ + 1;
        if (n > max_shares) n = max_shares;
        if (n < 2) return 0;
        fn_ = fn;
        context_ = context;
        pending_.reset(static_cast<std::uint32_t>(n - 1));
        claims_.store(shares(1, n), std::memory_order_release);  // share 0 is the caller's
        for (int w = 0; w < n - 1; ++w) slots_[static_cast<std::size_t>(w)].go.add(1);
        std::exception_ptr failure;
        in_pool_task() = true;
        try {
            fn(context, 0, n);
        } catch (...) {
            failure = std::current_exception();
        }
        help(&failure);
        in_pool_task() = false;
        pending_.await([](std::uint32_t left) { return left == 0; });
        if (failure) std::rethrow_exception(failure);
        return n;
    }

    // The pool's size from its next run on; never blocks (see above).
    void resize(int workers) noexcept {
        wanted_.store(workers < 0 ? 0 : workers, std::memory_order_relaxed);
        if (in_pool_task() || busy_.exchange(1) != 0) return;
        if (started_ != 0 && started_ != wanted_.load(std::memory_order_relaxed)) restart();
        busy_.set(0);
    }

    // The size asked for, and the workers running now.
    int workers() const noexcept { return wanted_.load(std::memory_order_relaxed); }
    int running() const noexcept {
        lock();
        const int n = started_;
        busy_.set(0);
        return n;
    }

    // In a child made by fork(): the workers do not exist there. Forgets them without
    // joining (their memory is left behind) so that the next run starts new ones.
    // requires: only the forking thread runs (as in a child right after fork).
    void forget_workers_after_fork() noexcept {
        forgotten_ = slots_.release();  // kept reachable: a leak checker need not report it
        started_ = 0;
        busy_.reset(0);
        pending_.reset(0);
        claims_.store(0, std::memory_order_relaxed);
    }

private:
    static constexpr int max_shares = 0xffff;

    // The shares of the current run, in one word: the next unclaimed one and their count.
    static constexpr std::uint32_t shares(int next, int count) noexcept {
        return static_cast<std::uint32_t>(count) << 16 | static_cast<std::uint32_t>(next);
    }

    struct alignas(64) Slot {
        Signal go;                      // bumped to wake the worker for a run, and to stop it
        std::atomic<bool> stop{false};  // atomic: a worker woken late reads it during another run
        std::thread thread;
    };

    // Claims and runs shares of the current run until none is left. A successful claim
    // means the run is not over (its caller waits for that share), so fn_ and context_
    // are the run's; a thread that comes late claims nothing, whichever run woke it.
    void help(std::exception_ptr* failure) noexcept {
        std::uint32_t word = claims_.load(std::memory_order_acquire);
        for (;;) {
            const int next = static_cast<int>(word & 0xffff), count = static_cast<int>(word >> 16);
            if (next >= count) return;
            if (!claims_.compare_exchange_weak(word, word + 1, std::memory_order_acquire)) continue;
            if (failure == nullptr) {
                fn_(context_, next, count);  // on a worker: an exception ends the program
            } else {
                try {
                    fn_(context_, next, count);
                } catch (...) {
                    if (!*failure) *failure = std::current_exception();
                }
            }
            pending_.count_down();
            word = claims_.load(std::memory_order_acquire);
        }
    }

    static void work(ThreadPool* pool, Slot* slot) noexcept {
        in_pool_task() = true;
        std::uint32_t seen = 0;
        for (;;) {
            seen = slot->go.await([seen](std::uint32_t now) { return now != seen; });
            if (slot->stop.load(std::memory_order_acquire)) return;
            pool->help(nullptr);
        }
    }

    // Takes busy_, waiting for the caller that holds it.
    void lock() const noexcept {
        while (busy_.exchange(1) != 0) busy_.await([](std::uint32_t owned) { return owned == 0; });
    }

    // Joins the workers. requires: the caller holds busy_.
    void stop() noexcept {
        for (int w = 0; w < started_; ++w) {
            Slot& slot = slots_[static_cast<std::size_t>(w)];
            slot.stop.store(true, std::memory_order_release);
            slot.go.add(1);
            slot.thread.join();
        }
        slots_.reset();
        started_ = 0;
    }

    // Replaces the workers by wanted_ new ones; false (and none) when the system
    // refuses a thread. requires: the caller holds busy_.
    bool restart() noexcept {
        stop();
        const int n = wanted_.load(std::memory_order_relaxed);
        if (n == 0) return true;
        try {
            slots_.reset(new Slot[static_cast<std::size_t>(n)]);
            for (; started_ < n; ++started_) {
                Slot* slot = &slots_[static_cast<std::size_t>(started_)];
                slot->thread = std::thread(work, this, slot);
            }
            return true;
        } catch (...) {
            stop();
            wanted_.store(0, std::memory_order_relaxed);  // run alone from now on
            return false;
        }
    }

    std::atomic<int> wanted_;
    int started_ = 0;
    std::unique_ptr<Slot[]> slots_;
    Slot* forgotten_ = nullptr;  // the parent's workers, in a child made by fork()
    mutable Signal busy_;        // 1 while a caller (or resize) owns the pool
    Task fn_ = nullptr;          // the current run's task, written before claims_ is
    void* context_ = nullptr;
    alignas(64) std::atomic<std::uint32_t> claims_{0};
    alignas(64) Signal pending_;  // shares 1..n-1 not done yet
};

// The count set_threads() sets: OMP_NUM_THREADS (its first entry) when set, as
// OpenMP programs read it, so that a job script that shares cores between
// processes still governs descent; else the cores this process may run on.
inline int default_thread_count() noexcept {
    if (const char* env = std::getenv("OMP_NUM_THREADS")) {
        char* end = nullptr;
        const long n = std::strtol(env, &end, 10);
        if (end != env && n >= 1) return n < 1024 ? static_cast<int>(n) : 1024;
    }
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
#endif
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

inline std::atomic<int>& thread_count_setting() noexcept {
    static std::atomic<int> count{default_thread_count()};
    return count;
}

inline int thread_count() noexcept {
    return thread_count_setting().load(std::memory_order_relaxed);
}

// Set once the global pool is destroyed at exit: later products run alone.
inline std::atomic<bool> global_pool_gone{false};

struct GlobalPool {
    ThreadPool pool{thread_count() - 1};
    GlobalPool() noexcept {
#if DESCENT_POOL_ATFORK
        pthread_atfork(nullptr, nullptr, [] {
            if (!global_pool_gone.load()) global_pool()->forget_workers_after_fork();
        });
#endif
    }
    ~GlobalPool() {
        global_pool_gone.store(true);
    }
    GlobalPool(const GlobalPool&) = delete;
    GlobalPool& operator=(const GlobalPool&) = delete;

    static ThreadPool* global_pool() noexcept {
        if (global_pool_gone.load(std::memory_order_relaxed)) return nullptr;
        static GlobalPool instance;
        return &instance.pool;
    }
};

// The pool of descent's products, created at its first use; nullptr after exit began.
inline ThreadPool* global_pool() noexcept {
    return GlobalPool::global_pool();
}

// Runs body(i, n) for each i in [0, n) on n <= count threads of the global pool, or
// body(0, 1) on the caller when count is 1, the pool is in use, or the call is nested.
template <class Body>
void run_on_threads(int count, const Body& body) {
    if (count > 1) {
        if (ThreadPool* pool = global_pool()) {
            const Task task = [](void* context, int i, int n) { (*static_cast<const Body*>(context))(i, n); };
            if (pool->try_run(count, task, const_cast<void*>(static_cast<const void*>(&body))) != 0) return;
        }
    }
    body(0, 1);
}

}  // namespace descent::detail
