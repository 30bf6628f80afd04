// Throughput of training the workload (workload.hpp) at batch sizes 1, 32, 128, 256
// on 1 and 2 threads: the forward pass, the backward pass, the loss, a whole SGD
// step, and the roof: the same matrix products alone, through Eigen's own
// `C.noalias() = A * B`, so that each figure reads as a fraction of what this
// machine's GEMM does with these shapes.
//
// Counters: samples/s, and GFLOP/s of the products (workload.hpp counts them).
// Times are wall-clock (UseRealTime): with several threads, CPU time would count one.
//
//   build-*/bench/bench_training --benchmark_filter='step|roof'
#include <benchmark/benchmark.h>

#include <array>
#include <descent/losses/softmax_cross_entropy.hpp>
#include <descent/network.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/threads.hpp>
#include <vector>

#include "workload.hpp"

namespace {

using bench::Matrix;
using bench::Net;

void report(benchmark::State& state, Eigen::Index batch, double flops_per_iteration) {
    const auto iterations = static_cast<double>(state.iterations());
    state.counters["samples/s"] = benchmark::Counter(iterations * double(batch), benchmark::Counter::kIsRate);
    if (flops_per_iteration > 0)
        state.counters["GFLOP/s"] =
            benchmark::Counter(iterations * flops_per_iteration * 1e-9, benchmark::Counter::kIsRate);
}

// Arguments: batch size, threads.
void shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"batch", "threads"});
    for (int threads : {1, 2})
        for (long batch : {1, 32, 128, 256}) b->Args({batch, threads});
    b->UseRealTime();
}

// h(L+1) = a(L+1) for the next batch.
void BM_forward(benchmark::State& state) {
    const Eigen::Index batch = state.range(0);
    descent::set_threads(static_cast<int>(state.range(1)));
    Net net(bench::sizes, 1);
    bench::Batches batches(batch);
    for (auto _ : state) {
        batches.next([&](const auto& x, auto) { benchmark::DoNotOptimize(net.forward(x).data()); });
        benchmark::ClobberMemory();
    }
    report(state, batch, bench::forward_flops(batch));
}
BENCHMARK(BM_forward)->Apply(shapes);

// From ∇a(L+1) down to ∇W(1), ∇b(1), after one forward pass (repeated on the same batch).
void BM_backward(benchmark::State& state) {
    const Eigen::Index batch = state.range(0);
    descent::set_threads(static_cast<int>(state.range(1)));
    Net net(bench::sizes, 1);
    bench::Batches batches(batch);
    Matrix x;
    std::vector<int> y;
    batches.next([&](const auto& xb, auto yb) {
        x = xb;
        y.assign(yb.begin(), yb.end());
    });
    descent::SoftmaxCrossEntropy<float> loss;
    loss.forward(net.forward(x), y);
    const Matrix grad_a = loss.backward(y);
    auto& l1 = net.layer<0>();
    auto& l2 = net.layer<1>();
    auto& l3 = net.layer<2>();
    for (auto _ : state) {
        const auto g2 = l3.backward(l2.output(), grad_a, true);
        const auto g1 = l2.backward(l1.output(), g2, true);
        l1.backward(x, g1, false);
        benchmark::ClobberMemory();
    }
    report(state, batch, bench::backward_flops(batch));
}
BENCHMARK(BM_backward)->Apply(shapes);

// The fused softmax-cross-entropy: l and ∇a(L+1) from 10 x B logits.
void BM_loss(benchmark::State& state) {
    const Eigen::Index batch = state.range(0);
    Net net(bench::sizes, 1);
    bench::Batches batches(batch);
    Matrix logits;
    std::vector<int> y;
    batches.next([&](const auto& x, auto yb) {
        logits = net.forward(x);
        y.assign(yb.begin(), yb.end());
    });
    descent::SoftmaxCrossEntropy<float> loss;
    for (auto _ : state) {
        benchmark::DoNotOptimize(loss.forward(logits, y));
        benchmark::DoNotOptimize(loss.backward(y).data());
        benchmark::ClobberMemory();
    }
    report(state, batch, 0);
}
BENCHMARK(BM_loss)->ArgName("batch")->Arg(1)->Arg(32)->Arg(128)->Arg(256)->UseRealTime();

// One Sgd::step, the guarded step fit takes: forward, loss, backward, the guard's checks, θ ← θ - α∇θ l,
// on the next batch.
void BM_step(benchmark::State& state) {
    const Eigen::Index batch = state.range(0);
    descent::set_threads(static_cast<int>(state.range(1)));
    Net net(bench::sizes, 1);
    descent::Sgd<> sgd(bench::learning_rate(batch));
    bench::Batches batches(batch);
    for (auto _ : state) {
        batches.next([&](const auto& x, auto y) { benchmark::DoNotOptimize(sgd.step(net, x, y)); });
        benchmark::ClobberMemory();
    }
    report(state, batch, bench::step_flops(batch));
}
BENCHMARK(BM_step)->Apply(shapes);

// BM_step over Network<float>, the same 784-512:relu-256:relu-10 chosen at run time: the cost of
// the run-time choice (one dispatch per layer and pass) against BM_step's Mlp, whose θ it
// equals bit for bit. Compare: --benchmark_filter='BM_step'.
void BM_step_network(benchmark::State& state) {
    const Eigen::Index batch = state.range(0);
    descent::set_threads(static_cast<int>(state.range(1)));
    descent::Network<float> net(bench::sizes.front(), {{bench::sizes[1], "relu"}, {bench::sizes[2], "relu"}},
                                bench::sizes.back(), "softmax_cross_entropy", 1);
    descent::Sgd<> sgd(bench::learning_rate(batch));
    bench::Batches batches(batch);
    for (auto _ : state) {
        batches.next([&](const auto& x, auto y) { benchmark::DoNotOptimize(sgd.step(net, x, y)); });
        benchmark::ClobberMemory();
    }
    report(state, batch, bench::step_flops(batch));
}
BENCHMARK(BM_step_network)->Apply(shapes);

// The roof: the 8 matrix products of a step (3 forward, 3 ∇W(k), 2 ∇h(k-1)) alone, in
// preallocated matrices, through Eigen's own products and threads (Eigen::setNbThreads).
void BM_roof(benchmark::State& state) {
    const Eigen::Index batch = state.range(0);
    descent::set_threads(static_cast<int>(state.range(1)));
    constexpr std::size_t layers = bench::sizes.size() - 1;
    std::array<Matrix, layers> W, grad_W, a, grad_a;
    std::array<Matrix, layers + 1> h;
    std::array<Matrix, layers> grad_h;  // grad_h[k] = ∇h(k), k >= 1
    h[0] = bench::fashion_mnist().train.x.leftCols(batch);
    for (std::size_t k = 0; k < layers; ++k) {
        const Eigen::Index out = bench::sizes[k + 1], in = bench::sizes[k];
        W[k] = Matrix::Random(out, in) * 0.05f;
        grad_W[k].resize(out, in);
        a[k].resize(out, batch);
        grad_a[k] = Matrix::Random(out, batch);
        h[k + 1] = Matrix::Random(out, batch);
        grad_h[k].resize(in, batch);
    }
    for (auto _ : state) {
        for (std::size_t k = 0; k < layers; ++k) a[k].noalias() = W[k] * h[k];
        for (std::size_t k = layers; k-- > 0;) {
            grad_W[k].noalias() = grad_a[k] * h[k].transpose();
            if (k > 0) grad_h[k].noalias() = W[k].transpose() * grad_a[k];
        }
        benchmark::ClobberMemory();
    }
    report(state, batch, bench::step_flops(batch));
}
BENCHMARK(BM_roof)->Apply(shapes);

// This machine's GEMM at its best: a large square float product through Eigen.
void BM_gemm_peak(benchmark::State& state) {
    const Eigen::Index n = 1024;
    descent::set_threads(static_cast<int>(state.range(0)));
    const Matrix A = Matrix::Random(n, n), B = Matrix::Random(n, n);
    Matrix C(n, n);
    for (auto _ : state) {
        C.noalias() = A * B;
        benchmark::ClobberMemory();
    }
    state.counters["GFLOP/s"] = benchmark::Counter(
        double(state.iterations()) * 2.0 * double(n * n * n) * 1e-9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_gemm_peak)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
