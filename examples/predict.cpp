// Predictions of any saved model on new data, knowing nothing of the model in advance: the file
// says what the network is (layers, activations, head, scalar type), load_network builds it.
//
//   predict fashion.model /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz --limit 5
//   predict regression.model houses.csv
//
// Input: the images of an IDX file (pixels scaled to [0, 1], as load_idx gives them to training),
// or the rows of a CSV file (every column a feature; --ignore drops some by index). One line per
// sample: for a classifier its class and f(x), the probabilities (argmax_c f(x)_c for softmax;
// one per label for a sigmoid head); for a regression head (squared_error) the values f(x) = a(L+1).
#include <cstdio>
#include <descent/descent.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "common/flags.hpp"

namespace {

using namespace descent;

struct Options {
    std::string model;
    std::string input;
    Eigen::Index limit = 0;  // 0: every sample
    std::vector<int> ignore;
};

bool is_csv(const std::string& path) {
    return path.ends_with(".csv") || path.ends_with(".csv.gz");
}

// The samples, one per column.
template <class Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> read_samples(const Options& o) {
    if (is_csv(o.input)) {
        CsvOptions csv;
        csv.target = CsvOptions::Target::none;
        for (const int column : o.ignore) csv.ignore_columns.push_back(column);
        return read_csv<Scalar>(o.input, csv).x;
    }
    return scale_pixels<Scalar>(read_idx_images(o.input));
}

template <class Scalar>
int run(const Options& o) {
    ModelMetadata metadata;
    Network<Scalar> net = load_network<Scalar>(o.model, metadata);
    std::printf("model %s: %s\n", o.model.c_str(), describe(net.architecture()).c_str());
    for (const auto& [key, value] : metadata) std::printf("  %s: %s\n", key.c_str(), value.c_str());
    auto x = read_samples<Scalar>(o);
    const Eigen::Index n = o.limit > 0 ? std::min(o.limit, x.cols()) : x.cols();
    if (x.rows() != net.inputs())
        throw shape_error(o.input + ": samples of " + std::to_string(x.rows()) +
                          " features, the model takes " + std::to_string(net.inputs()));
    const auto samples = x.leftCols(n);
    const bool regression = std::string(net.head_name()) == SquaredError<Scalar>::name;
    if (regression) {
        const auto values = net.predict_values(samples);
        for (Eigen::Index t = 0; t < n; ++t) {
            std::printf("%ld: values", long(t));
            for (Eigen::Index k = 0; k < values.rows(); ++k) std::printf(" %.6g", double(values(k, t)));
            std::printf("\n");
        }
        return 0;
    }
    // A sigmoid head over several labels gives no single class: then only the probabilities.
    const bool single =
        !(std::string(net.head_name()) == SigmoidCrossEntropy<Scalar>::name && net.outputs() > 1);
    const auto p = net.predict_proba(samples);
    const std::vector<int> classes = single ? net.predict(samples) : std::vector<int>{};
    for (Eigen::Index t = 0; t < n; ++t) {
        if (single)
            std::printf("%ld: class %d  p", long(t), classes[static_cast<std::size_t>(t)]);
        else
            std::printf("%ld: p", long(t));
        for (Eigen::Index k = 0; k < p.rows(); ++k) std::printf(" %.4f", double(p(k, t)));
        std::printf("\n");
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        Options o;
        CLI::App app("Loads any saved model and prints its predictions for the samples of a file.",
                     "predict");
        app.add_option("model", o.model, "a model file (fashion_mnist --save, descent::save)")
            ->type_name("MODEL")
            ->required();
        app.add_option("input", o.input, "an IDX file of images (.gz or not), or a CSV file (.csv, .csv.gz)")
            ->type_name("FILE")
            ->required();
        app.add_option("--limit", o.limit, "only the first N samples (0: all)")
            ->type_name("N")
            ->check(examples::not_negative)
            ->capture_default_str();
        app.add_option("--ignore", o.ignore, "CSV columns that are not features (by index, -1 the last)")
            ->type_name("C[,C...]")
            ->delimiter(',');
        if (!examples::parse(app, argc, argv)) return 0;
        // The scalar type is the file's: read it first, then build the network of that type.
        if (read_architecture(o.model).scalar == "double") return run<double>(o);
        return run<float>(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "predict: error: %s\n", e.what());
        return 1;
    }
}
