// Fashion-MNIST end to end: load the data, hold out a validation set, choose the
// learning rate α by validation accuracy, train with early stopping, report the
// test accuracy, save the model (--save, descent's file; --export, ONNX); or, with
// --load, evaluate a saved model of any architecture. With --checkpoint DIR the final
// training saves a checkpoint after every epoch, and --resume goes on from it after
// a crash or a kill, as if it had never stopped.
//
// The network is a Network<float> (network.hpp), so its depth, widths and activation
// come from the flags at run time: --hidden 512,256,128 is three hidden layers.
//
//   fashion_mnist [--hidden 512,256] [--activation relu] [--epochs 30] ...   (--help lists all)
//
// The last line printed is test_accuracy=<four decimals>.
#include <cstdio>
#include <cstdlib>
#include <descent/descent.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/checkpointing.hpp"
#include "common/flags.hpp"

namespace {

using namespace descent;
using Matrix = Eigen::MatrixXf;

struct Options : examples::TrainingFlags, examples::RecipeFlags {
    std::vector<Eigen::Index> hidden{512, 256};
    std::string activation = "relu";
    double dropout = 0;  // of each hidden layer's h(k), while training
    bool standardize = true;  // each pixel to mean 0, variance 1 over the training part
    bool mirror = false;      // train on each image and its mirror image
    std::vector<double> learning_rates{0.02, 0.05, 0.1};  // one value: no search
    int select_epochs = 2;                                // epochs of each model-selection trial
    std::string load;
    std::string export_onnx;  // the trained model as ONNX
    std::string log;          // learning curves as CSV
    std::string plot;         // and as a PNG, through gnuplot
    std::string checkpoint;   // a directory
    bool resume = false;

    Options() {
        epochs = 40;
        threads = 2;
    }
};

// The flags, their help and their defaults; CLI11 checks each value as it reads it.
void declare(CLI::App& app, Options& o) {
    examples::add_recipe_flags(app, o);
    examples::add_training_flags(app, o);
    app.add_option("--hidden", o.hidden, "hidden layer sizes, one per hidden layer, any number")
        ->type_name("H1[,H2...]")
        ->delimiter(',')
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    app.add_option("--activation", o.activation, "g of the hidden layers")
        ->type_name("G")
        ->check(CLI::IsMember({"relu", "tanh", "sigmoid"}))
        ->capture_default_str();
    app.add_option("--dropout", o.dropout, "dropout rate of each hidden layer while training (inverted)")
        ->type_name("P")
        ->check(CLI::Range(0.0, 0.95))
        ->capture_default_str();
    app.add_option("--standardize", o.standardize,
                   "standardise each pixel over the training part (false: pixels in [0, 1] as they are)")
        ->type_name("BOOL")
        ->capture_default_str();
    app.add_option("--mirror", o.mirror,
                   "train on every training image and on its mirror image, left to right (a garment "
                   "mirrored is the same garment): twice the data per epoch")
        ->type_name("BOOL")
        ->capture_default_str();
    app.add_option("--lr", o.learning_rates, "learning rates α; several are searched by validation accuracy")
        ->type_name("A[,A...]")
        ->delimiter(',')
        ->capture_default_str();
    app.add_option("--select-epochs", o.select_epochs, "epochs per search trial")
        ->type_name("N")
        ->capture_default_str();
    app.add_option("--load", o.load,
                   "evaluate a saved model on the test set, without training (its architecture comes from "
                   "the file)")
        ->type_name("FILE");
    app.add_option("--export", o.export_onnx, "write the trained model as ONNX (raw pixels in, f(x) out)")
        ->type_name("FILE");
    auto* log = app.add_option("--log", o.log, "write the learning curves as CSV")->type_name("FILE");
    app.add_option("--plot", o.plot, "and plot them as a PNG with gnuplot")->type_name("FILE")->needs(log);
    auto* checkpoint = app.add_option("--checkpoint", o.checkpoint,
                                      "save a checkpoint of the final training in DIR after every epoch")
                           ->type_name("DIR");
    app.add_flag("--resume", o.resume,
                 "go on from DIR's checkpoint, if there is one (give the same flags, and one --lr to skip "
                 "the search)")
        ->needs(checkpoint);
}

// The data: pixels in [0, 1]. Training standardises them with the mean and spread
// of the training part only, so that nothing of the validation or test sets leaks
// into training; the test set is never looked at until the end.
struct Data {
    Dataset<float> train, validation, test;
};

// The training part with each 28 x 28 image followed by its mirror image.
Dataset<float> with_mirror_images(const Dataset<float>& part) {
    Dataset<float> out;
    const Eigen::Index n = part.size();
    out.x.resize(part.x.rows(), 2 * n);
    out.y.reserve(static_cast<std::size_t>(2 * n));
    for (Eigen::Index t = 0; t < n; ++t) {
        out.x.col(2 * t) = part.x.col(t);
        // Pixel (row r, column c) is x(28 r + c): as a 28 x 28 column-major map, column r
        // holds image row r, and reversing each column mirrors the image.
        Eigen::Map<Eigen::Matrix<float, 28, 28>>(out.x.col(2 * t + 1).data()) =
            Eigen::Map<const Eigen::Matrix<float, 28, 28>>(part.x.col(t).data()).colwise().reverse();
        out.y.push_back(part.y[static_cast<std::size_t>(t)]);
        out.y.push_back(part.y[static_cast<std::size_t>(t)]);
    }
    return out;
}

Data prepare(const Options& o, bool for_training) {
    auto [all_train, test] = load_fashion_mnist<float>(o.data);
    Data d;
    if (for_training) {
        auto [train, validation] = split(all_train, o.validation, o.seed);
        d.train = o.mirror ? with_mirror_images(train) : std::move(train);
        d.validation = std::move(validation);
    } else {
        d.train = std::move(all_train);
    }
    d.test = std::move(test);
    return d;
}

// Trains net with classical momentum (plain SGD when --momentum 0) and returns the reports.
std::vector<EpochReport> train(Network<float>& net, const Options& o, double alpha, const Data& d, int epochs,
                               bool show) {
    FitOptions options;
    options.epochs = epochs;
    options.batch_size = o.batch;
    options.seed = o.seed;
    options.validate_on(d.validation.x, d.validation.y);
    options.early_stopping = EarlyStopping{o.patience, 0.0};
    // The course's α_t = α / (1 + β t); InverseTimeDecay counts t in updates, so β is per update.
    const auto steps_per_epoch = (d.train.size() + o.batch - 1) / o.batch;
    options.schedule = InverseTimeDecay(alpha, o.decay / static_cast<double>(steps_per_epoch));
    Progress progress(stderr, show && !o.quiet ? Progress::Mode::automatic : Progress::Mode::never);
    progress.attach(options);
    std::optional<CsvLogger> curve;
    if (show && !o.log.empty()) curve.emplace(o.log).attach(options);
    // The final training only: the search's short trials are cheaper to redo than to save.
    // The checkpoint is written atomically (a kill leaves the previous one whole) and holds
    // everything the run needs to go on bit for bit: θ, the velocity, t, the shuffling
    // engine, early stopping's best epoch.
    if (show && !o.checkpoint.empty()) {
        std::filesystem::create_directories(o.checkpoint);
        const auto file = std::filesystem::path(o.checkpoint) / "fashion_mnist.checkpoint";
        options.checkpoint = examples::every_epoch(file, o.resume);
        if (const auto epoch = o.resume ? examples::checkpointed_epoch(file) : std::nullopt)
            std::printf("resuming from %s after epoch %d\n", file.string().c_str(), *epoch);
    }
    if (o.momentum > 0) {
        Momentum optimizer(alpha, o.lambda, L2{}, o.momentum);
        return fit(net, optimizer, d.train.x, d.train.y, options);
    }
    Sgd optimizer(alpha, o.lambda, L2{});
    return fit(net, optimizer, d.train.x, d.train.y, options);
}

int run(const Options& o) {
    if (!o.load.empty()) {
        // Evaluate a saved model: the file says what the network is (load_network), so no
        // architecture flag is needed. It takes raw pixels: its standardisation was folded
        // into W(1), b(1).
        Network<float> net = load_network(o.load);
        Data d = prepare(o, false);
        std::printf("loaded %s\n", o.load.c_str());
        std::printf("test_accuracy=%.4f\n", net.accuracy(d.test.x, d.test.y));
        return 0;
    }

    Data d = prepare(o, true);
    Standardizer<float> standardize;
    if (o.standardize) {
        standardize.fit(d.train.x).apply(d.train);
        standardize.apply(d.validation);
    }
    std::printf("train %ld, validation %ld, test %ld samples of %ld features\n", long(d.train.size()),
                long(d.validation.size()), long(d.test.size()), long(d.train.features()));

    // features -> hidden... (each of --activation) -> 10 classes, softmax.
    std::vector<HiddenLayer> hidden;
    for (const Eigen::Index width : o.hidden) hidden.push_back({width, o.activation, o.dropout});
    auto make_network = [&] {
        return Network<float>(d.train.features(), hidden, 10, "softmax_cross_entropy", o.seed);
    };

    // Model selection: a short training per α, judged on the validation set only.
    double alpha = o.learning_rates.front();
    if (o.learning_rates.size() > 1) {
        const ActivationKind g = o.activation == "tanh"      ? ActivationKind::tanh
                                 : o.activation == "sigmoid" ? ActivationKind::sigmoid
                                                             : ActivationKind::relu;
        std::vector<Hyperparameters> candidates;
        for (double a : o.learning_rates) candidates.push_back({a, o.lambda, o.hidden, g});
        const auto result = search(
            candidates,
            [&](const Hyperparameters& h) {
                Network<float> net = make_network();
                const auto reports = train(net, o, h.learning_rate, d, o.select_epochs, false);
                const auto& best = reports[static_cast<std::size_t>(reports.back().best_epoch - 1)];
                return TrialResult{best.validation_accuracy, best.validation_loss, best.epoch,
                                   reports.back().epoch, 0.0};
            },
            [](const Trial& t, std::size_t i, std::size_t n) {
                std::printf("trial %zu/%zu  lr=%g  validation_accuracy=%.4f\n", i + 1, n,
                            t.hyperparameters.learning_rate, t.result.validation_accuracy);
                std::fflush(stdout);
            });
        alpha = result.best_trial().hyperparameters.learning_rate;
        std::printf("chosen lr=%g\n", alpha);
    }

    Network<float> net = make_network();
    std::printf("network %s\n", net.spec().c_str());
    const auto reports = train(net, o, alpha, d, o.epochs, true);
    double seconds = 0;
    for (const auto& r : reports) seconds += r.seconds;
    const auto& best = reports[static_cast<std::size_t>(reports.back().best_epoch - 1)];
    std::printf("trained %zu epochs in %.1f s; kept epoch %d: validation_accuracy=%.4f\n", reports.size(),
                seconds, best.epoch, best.validation_accuracy);

    // From here on the network takes raw pixels, as a saved model must.
    if (o.standardize) standardize.fold_into(net);
    if (!o.save.empty()) {
        descent::save(net, o.save,
                      {{"data", "Fashion-MNIST"},
                       {"input", "raw pixels in [0, 1], standardisation folded into W(1), b(1)"}});
        std::printf("saved %s\n", o.save.c_str());
    }
    if (!o.export_onnx.empty()) {
        descent::export_onnx(net, o.export_onnx);
        std::printf("exported %s\n", o.export_onnx.c_str());
    }
    if (!o.plot.empty()) {
        const std::string command = "gnuplot -e \"csv='" + o.log + "'; png='" + o.plot + "'\" " +
                                    DESCENT_EXAMPLES_DIR "/plot_learning_curves.gp";
        if (std::system(command.c_str()) != 0)
            std::fprintf(stderr, "warning: gnuplot failed; is it installed?\n");
    }
    std::printf("test_accuracy=%.4f\n", net.accuracy(d.test.x, d.test.y));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        Options o;
        CLI::App app(
            "Trains a multilayer perceptron on Fashion-MNIST and prints test_accuracy=<four decimals> last.",
            "fashion_mnist");
        declare(app, o);
        if (!examples::parse(app, argc, argv)) return 0;
        set_threads(o.threads);
        return run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fashion_mnist: error: %s\n", e.what());
        return 1;
    }
}
