// descent imports the models PyTorch trained and exported (torch_export.py): the architecture
// PyTorch's nn.Sequential means, PyTorch's outputs on the same inputs within 1e-5, and training
// goes on from there (a few SGD steps lower the loss); the fine-tuned model exports and imports back.
//
//   onnx_torch_import DIR     (DIR/torch_cases.txt; exit 77 when it is missing: PyTorch was)
#include <cmath>
#include <cstdio>
#include <descent/descent.hpp>
#include <descent/io/onnx_export.hpp>
#include <descent/io/onnx_import.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

template <class T>
std::vector<T> read_array(const fs::path& file, std::size_t count) {
    std::vector<T> v(count);
    std::ifstream in(file, std::ios::binary);
    in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(count * sizeof(T)));
    if (!in || in.peek() != EOF)
        throw std::runtime_error(file.string() + ": not " + std::to_string(count) + " values");
    return v;
}

struct Case {
    std::string name, model, input, output, labels;
    Eigen::Index batch = 0, features = 0, classes = 0;
};

// One model: import into Net, compare with PyTorch, fine-tune, export and import back.
template <class Net>
bool check(const fs::path& dir, const Case& c, const descent::Architecture& expected, bool probabilities,
           Net net) {
    bool ok = true;
    auto fail = [&](const std::string& what) {
        std::printf("FAILED: %s: %s\n", c.name.c_str(), what.c_str());
        ok = false;
    };
    const auto model = descent::import_onnx(dir / c.model);
    if (model.architecture != expected)
        fail("imported as " + descent::describe(model.architecture) + ", expected " +
             descent::describe(expected));
    descent::import_onnx_into(net, dir / c.model);

    // PyTorch's [batch, features] row-major is descent's features x batch, column-major.
    const auto xs = read_array<float>(dir / c.input, static_cast<std::size_t>(c.batch * c.features));
    const auto fs_ = read_array<float>(dir / c.output, static_cast<std::size_t>(c.batch * c.classes));
    const auto ys = read_array<std::int32_t>(dir / c.labels, static_cast<std::size_t>(c.batch));
    const Eigen::Map<const Eigen::MatrixXf> x(xs.data(), c.features, c.batch);
    const Eigen::Map<const Eigen::MatrixXf> torch_f(fs_.data(), c.classes, c.batch);
    const std::vector<int> y(ys.begin(), ys.end());

    const Eigen::MatrixXf f = probabilities ? net.predict_proba(x) : Eigen::MatrixXf(net.forward(x));
    const double worst = (f - torch_f).cwiseAbs().maxCoeff();
    if (!(worst <= 1e-5)) fail("max |descent - PyTorch| = " + std::to_string(worst) + " > 1e-5");
    int same = 0;
    for (Eigen::Index j = 0; j < c.batch; ++j) {
        Eigen::Index a = 0, b = 0;
        f.col(j).maxCoeff(&a);
        torch_f.col(j).maxCoeff(&b);
        same += a == b;
    }

    // Fine-tuning: plain SGD steps on the held-out labelled samples lower the mean loss.
    const float before = net.loss(x, y);
    for (int step = 0; step < 20; ++step) net.descend(x, y, 0.05f);
    const float after = net.loss(x, y);
    if (!(after < before))
        fail("20 SGD steps took the loss from " + std::to_string(before) + " to " + std::to_string(after));

    const fs::path tuned = dir / (c.name + "_tuned_by_descent.onnx");
    descent::export_onnx(net, tuned);
    Net back = net;
    back.parameters().setZero();
    descent::import_onnx_into(back, tuned);
    if (back.parameters() != net.parameters()) fail("the fine-tuned model did not come back bit for bit");

    std::printf(
        "%s: %s; outputs within %.2e of PyTorch's, the same class for %d of %d; fine-tuning: loss %.4f -> "
        "%.4f\n",
        c.name.c_str(), descent::describe(model.architecture).c_str(), worst, same,
        static_cast<int>(c.batch), before, after);
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const fs::path dir = argv[1];
    std::ifstream list(dir / "torch_cases.txt");
    if (!list) {
        std::printf("%s: no torch_cases.txt (PyTorch did not export): skipped\n", dir.string().c_str());
        return 77;
    }
    try {
        using descent::Dense;
        bool ok = true;
        int count = 0;
        Case c;
        while (list >> c.name >> c.model >> c.input >> c.output >> c.labels >> c.batch >> c.features >>
               c.classes) {
            ++count;
            descent::Architecture a;
            if (c.name == "torch_fashion") {
                a.layers = {
                    {"dense", "relu", 784, 64}, {"dense", "tanh", 64, 32}, {"dense", "identity", 32, 10}};
                using Net =
                    descent::Mlp<Dense<descent::Relu>, Dense<descent::Tanh>, Dense<descent::Identity>>;
                ok = check(dir, c, a, false, Net({784, 64, 32, 10})) && ok;
            } else {
                a.layers = {{"dense", "sigmoid", 20, 16}, {"dense", "identity", 16, 3}};
                using Net = descent::Mlp<Dense<descent::Sigmoid>, Dense<descent::Identity>>;
                ok = check(dir, c, a, true, Net({20, 16, 3})) && ok;
            }
        }
        std::printf("%d PyTorch models imported, %s\n", count, ok ? "all agree" : "FAILED");
        return ok && count == 3 ? 0 : 1;
    } catch (const std::exception& e) {
        std::printf("FAILED: %s\n", e.what());
        return 1;
    }
}
