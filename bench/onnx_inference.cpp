// Inference speed, descent against ONNX Runtime on the same model (bench/compare_onnxruntime.sh
// runs both): trains the README's 784-512-256-10 ReLU network for 200 steps on Fashion-MNIST
// (trained, so that h(k) has the zeros of a real ReLU network, which descent's batch-1 products
// skip), folds the standardisation into W(1), b(1), exports it with export_onnx, writes the first
// 128 raw test images for onnx_inference.cjs, and times f(x) = predict_proba(x) at batch 1 and 128.
//
//   bench_onnx_inference MODEL.onnx [--data DIR] [--threads N] [--seconds S] [--rounds R]
//
// One line per batch size: "descent batch=B threads=N median_us=... samples_per_s=...": the
// median over R rounds of the mean time of one call within a round of S seconds.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <descent/descent.hpp>
#include <descent/io/onnx_export.hpp>
#include <fstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    using namespace descent;
    std::string model, data = "/usr/share/datasets/fashion-mnist";
    int threads = 1, rounds = 15;
    double seconds = 0.2;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--data" && has_value)
            data = argv[++i];
        else if (arg == "--threads" && has_value)
            threads = std::stoi(argv[++i]);
        else if (arg == "--seconds" && has_value)
            seconds = std::stod(argv[++i]);
        else if (arg == "--rounds" && has_value)
            rounds = std::stoi(argv[++i]);
        else if (model.empty() && arg[0] != '-')
            model = arg;
        else {
            std::fprintf(stderr,
                         "usage: %s MODEL.onnx [--data DIR] [--threads N] [--seconds S] [--rounds R]\n",
                         argv[0]);
            return 2;
        }
    }
    if (model.empty()) {
        std::fprintf(stderr, "%s: no MODEL.onnx to write\n", argv[0]);
        return 2;
    }
    try {
        set_threads(threads);
        auto [train, test] = load_fashion_mnist<float>(data);
        Standardizer<float> standardize;
        standardize.fit(train.x);
        standardize.apply(train.x);
        Mlp<Dense<Relu>, Dense<Relu>, Dense<Identity>> net({784, 512, 256, 10}, 1);
        for (Eigen::Index step = 0; step < 200; ++step) {
            const Eigen::Index first = step * 128;
            net.descend(train.x.middleCols(first, 128), std::span<const int>(train.y.data() + first, 128),
                        0.05f);
        }
        standardize.fold_into(net);
        export_onnx(net, model);
        const Eigen::MatrixXf x = test.x.leftCols(128);
        std::ofstream(model + ".inputs", std::ios::binary)
            .write(reinterpret_cast<const char*>(x.data()),
                   static_cast<std::streamsize>(x.size() * sizeof(float)));
        std::printf("# %s: test accuracy %.4f\n", model.c_str(), net.accuracy(test.x, test.y));

        using clock = std::chrono::steady_clock;
        for (const Eigen::Index batch : {Eigen::Index{1}, Eigen::Index{128}}) {
            const Eigen::MatrixXf xb = x.leftCols(batch);
            float sink = 0;
            for (int i = 0; i < 20; ++i) sink += net.predict_proba(xb)(0, 0);  // warm-up
            std::vector<double> per_call;
            for (int r = 0; r < rounds; ++r) {
                const auto start = clock::now();
                long calls = 0;
                double elapsed = 0;
                do {
                    sink += net.predict_proba(xb)(0, 0);
                    ++calls;
                    elapsed = std::chrono::duration<double>(clock::now() - start).count();
                } while (elapsed < seconds);
                per_call.push_back(elapsed / static_cast<double>(calls));
            }
            std::nth_element(per_call.begin(), per_call.begin() + rounds / 2, per_call.end());
            const double median = per_call[static_cast<std::size_t>(rounds / 2)];
            std::printf("descent batch=%ld threads=%d median_us=%.2f samples_per_s=%.0f (sink %g)\n",
                        static_cast<long>(batch), threads, median * 1e6, static_cast<double>(batch) / median,
                        static_cast<double>(sink));
        }
        return 0;
    } catch (const error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
