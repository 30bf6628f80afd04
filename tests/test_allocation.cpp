// Zero allocation: once a training step has run at a batch size, the next steps
// at that size or smaller take nothing from the heap, neither through operator
// new nor through malloc itself (Eigen's aligned_malloc calls std::malloc, so a
// counter on operator new alone would miss its GEMM buffers).
//
// The counter replaces the C allocation functions of the whole process, as
// glibc allows, forwarding to glibc's own (__libc_malloc and friends). It counts
// on every thread, so that the pool's workers of a parallel product are seen too.
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/regularizers/l2.hpp>
#include <descent/threads.hpp>
#include <descent/training/fit.hpp>
#include <new>
#include <span>
#include <vector>

#include "support.hpp"

// AddressSanitizer replaces malloc itself: GCC says so with __SANITIZE_ADDRESS__, clang
// (before version 16) only through __has_feature.
#if defined(__SANITIZE_ADDRESS__)
#define DESCENT_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DESCENT_TEST_UNDER_ASAN 1
#endif
#endif

#if defined(__GLIBC__) && !defined(DESCENT_TEST_UNDER_ASAN)
#define DESCENT_TEST_COUNTS_MALLOC 1

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
std::atomic<long> heap_allocations{0};
void* counted(void* p) {
    heap_allocations.fetch_add(1, std::memory_order_relaxed);
    return p;
}
}  // namespace

extern "C" {
void* malloc(std::size_t size) {
    return counted(__libc_malloc(size));
}
void* calloc(std::size_t n, std::size_t size) {
    return counted(__libc_calloc(n, size));
}
void* realloc(void* p, std::size_t size) {
    return counted(__libc_realloc(p, size));
}
void free(void* p) {
    __libc_free(p);
}
void* memalign(std::size_t alignment, std::size_t size) {
    return counted(__libc_memalign(alignment, size));
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
    return counted(__libc_memalign(alignment, size));
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
    void* p = __libc_memalign(alignment, size);
    if (p == nullptr) return ENOMEM;
    *out = counted(p);
    return 0;
}
}

// operator new is libstdc++'s, which calls malloc: counted above. Replaced here
// anyway, so that the count does not depend on how the C++ runtime allocates.
void* operator new(std::size_t size) {
    if (void* p = malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
    return operator new(size);
}
void operator delete(void* p) noexcept {
    free(p);
}
void operator delete[](void* p) noexcept {
    free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    free(p);
}

namespace {
long allocations() {
    return heap_allocations.load();
}
}  // namespace

#endif

#ifdef DESCENT_TEST_COUNTS_MALLOC

namespace {

using Net = descent::Mlp<descent::Dense<descent::Relu, float>, descent::Dense<descent::Relu, float>,
                         descent::Dense<descent::Identity, float>>;
using Matrix = Net::Matrix;

// Heap allocations made by f.
template <class F>
long allocations_of(F&& f) {
    const long before = allocations();
    f();
    return allocations() - before;
}

}  // namespace

TEST_CASE("The counter sees malloc, operator new and Eigen's aligned buffers", "[allocation]") {
    // A counter that counts nothing would make every test below pass.
    CHECK(allocations_of([] { std::free(std::malloc(16)); }) == 1);
    CHECK(allocations_of([] { delete new int(1); }) == 1);
    CHECK(allocations_of([] {
              Matrix m(100, 100);
              m.setZero();
          }) == 1);
    CHECK(allocations_of([] { std::vector<double> v(3); }) == 1);
}

TEST_CASE("An Sgd step on 784-512-256-10 allocates nothing after the first", "[allocation]") {
    const int threads = GENERATE(1, 2);
    const Eigen::Index batch = GENERATE(1, 32, 128, 256);
    CAPTURE(threads, batch);
    const int saved = descent::threads();
    descent::set_threads(threads);
    Net net({784, 512, 256, 10}, 1);
    const Matrix x =
        (descent::test::pseudo_random<float>(784, batch, 2).array() + 1) / 2;  // pixels in [0, 1)
    const auto y = descent::test::labels_cycling(batch, 10);
    SECTION("plain SGD") {
        descent::Sgd<> sgd(0.1);
        sgd.step(net, x, y);
        CHECK(allocations_of([&] { sgd.step(net, x, y); }) == 0);
        CHECK(allocations_of([&] { sgd.step(net, x, y); }) == 0);
    }
    SECTION("SGD with weight decay") {
        descent::Sgd<descent::L2> sgd(0.1, 1e-4);
        sgd.step(net, x, y);
        CHECK(allocations_of([&] { sgd.step(net, x, y); }) == 0);
    }
    SECTION("a smaller batch after a larger one") {
        descent::Sgd<> sgd(0.1);
        sgd.step(net, x, y);
        const Eigen::Index smaller = std::max<Eigen::Index>(1, batch / 3);
        const Matrix xs = x.leftCols(smaller);
        const std::vector<int> ys(y.begin(), y.begin() + smaller);
        CHECK(allocations_of([&] { sgd.step(net, xs, ys); }) == 0);
    }
    descent::set_threads(saved);
}

namespace {

// An Sgd that notes the heap count as each step begins and ends, to tell the
// step's allocations from those of fit's loop around it.
struct Recording {
    descent::Sgd<> sgd{0.1};
    std::vector<long> begins, ends;  // capacity reserved up front: recording allocates nothing
    template <class N>
    double step(N& net, const Eigen::Ref<const typename N::Matrix>& x, std::span<const int> labels) {
        begins.push_back(allocations());
        const double objective = sgd.step(net, x, labels);
        ends.push_back(allocations());
        return objective;
    }
};

}  // namespace

TEST_CASE("fit allocates nothing per step after its first, the smaller last batch included", "[allocation]") {
    const int threads = GENERATE(1, 2);
    CAPTURE(threads);
    const int saved = descent::threads();
    descent::set_threads(threads);
    // 1000 samples by 128: 7 full batches, then one of 104; two epochs.
    const Matrix x = (descent::test::pseudo_random<float>(784, 1000, 3).array() + 1) / 2;
    const auto y = descent::test::labels_cycling(1000, 10);
    Net net({784, 512, 256, 10}, 1);
    Recording optimizer;
    optimizer.begins.reserve(64);
    optimizer.ends.reserve(64);
    descent::FitOptions options;
    options.epochs = 2;
    options.batch_size = 128;
    descent::fit(net, optimizer, x, y, options);
    REQUIRE(optimizer.begins.size() == 16);
    REQUIRE(optimizer.ends.size() == 16);
    for (std::size_t s = 1; s < 16; ++s) {
        CAPTURE(s);
        CHECK(optimizer.ends[s] - optimizer.begins[s] == 0);  // the step itself, s = 7 and 15 of 104 samples
        if (s != 8) CHECK(optimizer.begins[s] - optimizer.ends[s - 1] == 0);  // fit's loop between two steps
    }
    descent::set_threads(saved);
}

#else

TEST_CASE("The counter sees malloc, operator new and Eigen's aligned buffers", "[allocation]") {
    descent::test::skip("counting allocations needs glibc's malloc, without AddressSanitizer");
}

#endif
