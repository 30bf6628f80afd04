// Writes descent's models as ONNX files, with inputs and descent's own outputs, for clients
// nobody here wrote to run (run_onnxruntime.cjs: ONNX Runtime; check_models.py: the onnx checker).
//
//   onnx_make_cases DIR                       every hidden activation and head, float and double
//   onnx_make_cases --fashion-mnist DATA DIR  a 784-128-64-10 ReLU network trained for 300 steps,
//                                             its standardisation folded into W(1), b(1), and the
//                                             10000 raw test images (exit 77 without the data)
//
// DIR/cases.json lists each case: its model, element type, batch, widths, and the files of its
// input and expected outputs. Every matrix is written as descent holds it, column-major with
// one sample per column, which is byte for byte the row-major [batch, width] tensor ONNX reads.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <descent/descent.hpp>
#include <descent/io/onnx_export.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

template <class Matrix>
void write_matrix(const fs::path& file, const Matrix& m) {
    std::ofstream out(file, std::ios::binary);
    out.write(reinterpret_cast<const char*>(m.data()),
              static_cast<std::streamsize>(m.size() * sizeof(typename Matrix::Scalar)));
    if (!out) throw std::runtime_error("cannot write " + file.string());
}

// Deterministic inputs in [-2, 2): no dependence on Eigen's Random().
template <class T>
Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> inputs(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
    std::uint64_t s = 0x9E3779B97F4A7C15ull * (seed + 1);
    Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> x(rows, cols);
    for (Eigen::Index i = 0; i < x.size(); ++i) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        x.data()[i] = static_cast<T>(static_cast<double>(s >> 11) * 0x1.0p-51 - 2.0);
    }
    return x;
}

class Manifest {
public:
    explicit Manifest(fs::path dir) : dir_(std::move(dir)) {
        fs::remove_all(dir_);  // no case of an earlier run may stand in for this one's
        fs::create_directories(dir_);
    }
    ~Manifest() {
        std::ofstream out(dir_ / "cases.json");
        out << "[\n" << entries_ << "\n]\n";
    }
    const fs::path& dir() const { return dir_; }

    // One case: the model for `a` and θ, its input x, and descent's a(L+1) and f(x) for x.
    template <class T, class Logits>
    void add(const std::string& name, const descent::Architecture& a, std::span<const T> theta,
             const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>& x, const Logits& logits) {
        const std::string model = name + ".onnx";
        descent::detail::atomic_write(dir_ / model, descent::detail::onnx::encode_onnx<T>(a, theta));
        write_matrix(dir_ / (name + ".input"), x);
        Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> a_out = logits;
        std::string outputs;
        if (a.head == "squared_error") {
            write_matrix(dir_ / (name + ".output"), a_out);
            outputs = R"("output": ")" + name + R"(.output")";
        } else {
            Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic> f(a_out.rows(), a_out.cols());
            if (a.head == "softmax_cross_entropy")
                descent::SoftmaxCrossEntropy<T>::softmax(a_out, f);
            else
                f = (T(1) + (-a_out.array()).exp()).inverse().matrix();  // σ(a) = 1 / (1 + e^(-a))
            write_matrix(dir_ / (name + ".probabilities"), f);
            write_matrix(dir_ / (name + ".logits"), a_out);
            outputs =
                R"("probabilities": ")" + name + R"(.probabilities", "logits": ")" + name + R"(.logits")";
        }
        if (!entries_.empty()) entries_ += ",\n";
        entries_ += R"(  {"name": ")" + name + R"(", "model": ")" + model + R"(", "type": ")" +
                    (std::is_same_v<T, float> ? "float32" : "float64") + R"(", "batch": )" +
                    std::to_string(x.cols()) + R"(, "features": )" + std::to_string(x.rows()) +
                    R"(, "classes": )" + std::to_string(a_out.rows()) + R"(, "head": ")" + a.head +
                    R"(", "input": ")" + name + R"(.input", "outputs": {)" + outputs + "}}";
        std::printf("%s: %s\n", model.c_str(), descent::describe(a).c_str());
    }

private:
    fs::path dir_;
    std::string entries_;
};

// One network per hidden activation, under each head; float and double.
template <class T, class Act>
void activation_cases(Manifest& manifest, const std::string& act) {
    using Net =
        descent::Mlp<descent::Dense<Act, T>, descent::Dense<Act, T>, descent::Dense<descent::Identity, T>>;
    Net net({7, 6, 5, 4}, 17);
    // Biases away from 0, so that a wrong bias layout would show.
    for (const auto& block : net.parameter_blocks())
        if (!block.is_weight)
            for (Eigen::Index i = 0; i < block.size(); ++i)
                net.parameters()(block.offset + i) = T(0.1) * static_cast<T>(i % 5) - T(0.2);
    const auto x = inputs<T>(7, 64, 3);
    const auto logits = net.forward(x).eval();
    const auto theta = net.parameters();
    const std::span<const T> span(theta.data(), static_cast<std::size_t>(theta.size()));
    const std::string type = std::is_same_v<T, float> ? "float" : "double";
    for (const std::string head : {"softmax_cross_entropy", "sigmoid_cross_entropy", "squared_error"}) {
        descent::Architecture a = net.architecture();
        a.head = head;
        manifest.add<T>("descent_" + act + "_" + head + "_" + type, a, span, x, logits);
    }
}

template <class T>
void all_activation_cases(Manifest& manifest) {
    activation_cases<T, descent::Relu>(manifest, "relu");
    activation_cases<T, descent::Tanh>(manifest, "tanh");
    activation_cases<T, descent::Sigmoid>(manifest, "sigmoid");
    activation_cases<T, descent::Identity>(manifest, "identity");
}

int fashion_mnist_case(const fs::path& data, const fs::path& dir) {
    fs::remove_all(dir);
    if (!fs::exists(descent::detail::fashion_mnist_file(data, "t10k-images-idx3-ubyte"))) {
        std::printf("Fashion-MNIST not found in %s: skipped\n", data.string().c_str());
        return 77;
    }
    auto [train, test] = descent::load_fashion_mnist<float>(data);
    descent::Standardizer<float> standardize;
    standardize.fit(train.x);
    standardize.apply(train.x);

    using Net = descent::Mlp<descent::Dense<descent::Relu>, descent::Dense<descent::Relu>,
                             descent::Dense<descent::Identity>>;
    Net net({784, 128, 64, 10}, 7);
    // 300 steps of SGD on minibatches of 64, in order: a model that has learnt something
    // (about 0.8 test accuracy), in well under a second.
    const Eigen::Index batch = 64;
    for (Eigen::Index step = 0; step < 300; ++step) {
        const Eigen::Index first = (step * batch) % (train.size() - batch);
        const std::span<const int> y(train.y.data() + first, static_cast<std::size_t>(batch));
        net.descend(train.x.middleCols(first, batch), y, 0.05f);
    }
    standardize.fold_into(net);  // the exported model takes raw pixels
    const double accuracy = net.accuracy(test.x, test.y);
    std::printf("Fashion-MNIST: test accuracy %.4f after 300 steps\n", accuracy);
    if (accuracy < 0.7) {
        std::printf("the model learnt too little to be a fair test\n");
        return 1;
    }
    Manifest manifest(dir);
    const auto theta = net.parameters();
    manifest.add<float>("descent_fashion_mnist", net.architecture(),
                        std::span<const float>(theta.data(), static_cast<std::size_t>(theta.size())), test.x,
                        net.forward(test.x).eval());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc == 4 && std::string(argv[1]) == "--fashion-mnist")
            return fashion_mnist_case(argv[2], argv[3]);
        if (argc != 2) {
            std::fprintf(stderr, "usage: %s DIR | --fashion-mnist DATA DIR\n", argv[0]);
            return 2;
        }
        Manifest manifest(argv[1]);
        all_activation_cases<float>(manifest);
        all_activation_cases<double>(manifest);
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
