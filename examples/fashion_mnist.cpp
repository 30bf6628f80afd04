// Fashion-MNIST end to end: load the data, hold out a validation set, choose the
// learning rate α by validation accuracy, train with early stopping, report the
// test accuracy, save the model; or, with --load, evaluate a saved model. With
// --checkpoint DIR the final training saves a checkpoint after every epoch, and
// --resume goes on from it after a crash or a kill, as if it had never stopped.
//
//   fashion_mnist [--hidden 512,256] [--activation relu] [--epochs 30] ...   (--help lists all)
//
// The last line printed is test_accuracy=<four decimals>.
#include <descent/descent.hpp>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace descent;
using Matrix = Eigen::MatrixXf;

struct Options {
    std::string data = "/usr/share/datasets/fashion-mnist";
    std::vector<Eigen::Index> hidden{512, 256};
    std::string activation = "relu";
    int epochs = 40;
    Eigen::Index batch = 128;
    std::vector<double> learning_rates{0.02, 0.05, 0.1};  // one value: no search
    double momentum = 0.9;
    double decay = 0.5;  // β of α_t = α / (1 + β t), t counted in epochs
    double lambda = 1e-3;
    std::uint64_t seed = 1;
    int threads = 2;
    Eigen::Index validation = 10000;
    int patience = 8;
    int select_epochs = 2;  // epochs of each model-selection trial
    std::string save;
    std::string load;
    std::string log;   // learning curves as CSV
    std::string plot;  // and as a PNG, through gnuplot
    std::string checkpoint;  // a directory
    bool resume = false;
    bool quiet = false;
};

constexpr const char* usage = R"(usage: fashion_mnist [options]
Trains a multilayer perceptron on Fashion-MNIST and prints test_accuracy=<four decimals> last.
  --data DIR          the IDX files (default /usr/share/datasets/fashion-mnist)
  --hidden H1[,H2]    hidden layer sizes, one or two (default 512,256)
  --activation G      relu, tanh or sigmoid (default relu)
  --epochs N          most epochs of the final training (default 40; early stopping may end it sooner)
  --batch B           minibatch size (default 128; 1 is per-example SGD)
  --lr A[,A...]       learning rates; several are searched by validation accuracy (default 0.02,0.05,0.1)
  --select-epochs N   epochs per search trial (default 2)
  --momentum M        classical momentum, 0 for plain SGD (default 0.9)
  --decay B           learning-rate decay: α_t = α / (1 + B t), t in epochs (default 0.5)
  --lambda L          L2 weight decay λ (default 1e-3)
  --patience P        early stopping on the validation loss (default 8)
  --validation N      samples held out from the training set (default 10000)
  --seed S            weights, split and shuffling (default 1)
  --threads T         threads for the matrix products (default 2)
  --save FILE         save the trained model
  --load FILE         evaluate a saved model on the test set, without training
  --log FILE          write the learning curves as CSV
  --plot FILE         and plot them as a PNG with gnuplot (needs --log)
  --checkpoint DIR    save a checkpoint of the final training in DIR after every epoch
  --resume            go on from DIR's checkpoint, if there is one (needs --checkpoint; give the
                      same options, and one --lr to skip the search)
  --quiet             no progress line
  --help              this text
)";

template <class T>
T number(std::string_view flag, std::string_view text) {
    T value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size())
        throw argument_error(std::string(flag) + ": expected a number, got '" + std::string(text) + "'");
    return value;
}

template <class T>
std::vector<T> numbers(std::string_view flag, std::string_view text) {
    std::vector<T> values;
    std::stringstream in{std::string(text)};
    for (std::string part; std::getline(in, part, ',');) values.push_back(number<T>(flag, part));
    if (values.empty()) throw argument_error(std::string(flag) + ": expected at least one value");
    return values;
}

std::optional<Options> parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (flag == "--help") return std::nullopt;
        if (flag == "--quiet") {
            o.quiet = true;
            continue;
        }
        if (flag == "--resume") {
            o.resume = true;
            continue;
        }
        if (i + 1 >= argc) throw argument_error(std::string(flag) + ": needs a value (see --help)");
        const std::string_view value = argv[++i];
        if (flag == "--data") o.data = value;
        else if (flag == "--hidden") o.hidden = numbers<Eigen::Index>(flag, value);
        else if (flag == "--activation") o.activation = value;
        else if (flag == "--epochs") o.epochs = number<int>(flag, value);
        else if (flag == "--batch") o.batch = number<Eigen::Index>(flag, value);
        else if (flag == "--lr") o.learning_rates = numbers<double>(flag, value);
        else if (flag == "--select-epochs") o.select_epochs = number<int>(flag, value);
        else if (flag == "--momentum") o.momentum = number<double>(flag, value);
        else if (flag == "--decay") o.decay = number<double>(flag, value);
        else if (flag == "--lambda") o.lambda = number<double>(flag, value);
        else if (flag == "--patience") o.patience = number<int>(flag, value);
        else if (flag == "--validation") o.validation = number<Eigen::Index>(flag, value);
        else if (flag == "--seed") o.seed = number<std::uint64_t>(flag, value);
        else if (flag == "--threads") o.threads = number<int>(flag, value);
        else if (flag == "--save") o.save = value;
        else if (flag == "--load") o.load = value;
        else if (flag == "--log") o.log = value;
        else if (flag == "--plot") o.plot = value;
        else if (flag == "--checkpoint") o.checkpoint = value;
        else throw argument_error("unknown option " + std::string(flag) + " (see --help)");
    }
    if (o.hidden.empty() || o.hidden.size() > 2)
        throw argument_error("--hidden: one or two sizes, got " + std::to_string(o.hidden.size()));
    if (!o.plot.empty() && o.log.empty()) throw argument_error("--plot needs --log FILE for the curves");
    if (o.resume && o.checkpoint.empty()) throw argument_error("--resume needs --checkpoint DIR");
    return o;
}

// The data: pixels in [0, 1]. Training standardises them with the mean and spread
// of the training part only, so that nothing of the validation or test sets leaks
// into training; the test set is never looked at until the end.
struct Data {
    Dataset<float> train, validation, test;
};

Data prepare(const Options& o, bool for_training) {
    auto [all_train, test] = load_fashion_mnist<float>(o.data);
    Data d;
    if (for_training) {
        auto [train, validation] = split(all_train, o.validation, o.seed);
        d.train = std::move(train);
        d.validation = std::move(validation);
    } else {
        d.train = std::move(all_train);
    }
    d.test = std::move(test);
    return d;
}

// Trains net with classical momentum (plain SGD when --momentum 0) and returns the reports.
template <class Net>
std::vector<EpochReport> train(Net& net, const Options& o, double alpha, const Data& d, int epochs,
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
        const auto path = std::filesystem::path(o.checkpoint) / "fashion_mnist.checkpoint";
        options.checkpoint = Checkpointing{checkpoint_file(path), 1, o.resume};
        if (o.resume && std::filesystem::exists(path))
            std::printf("resuming from %s after epoch %d\n", path.string().c_str(),
                        read_checkpoint(path).progress.epoch);
    }
    if (o.momentum > 0) {
        Momentum optimizer(alpha, o.lambda, L2{}, o.momentum);
        return fit(net, optimizer, d.train.x, d.train.y, options);
    }
    Sgd optimizer(alpha, o.lambda, L2{});
    return fit(net, optimizer, d.train.x, d.train.y, options);
}

template <class Net>
int run(const Options& o) {
    if (!o.load.empty()) {
        // Evaluate a saved model: its sizes come from the file, its activation must match.
        // A saved model takes raw pixels: its standardisation was folded into W(1), b(1).
        Net net = descent::load<Net>(o.load);
        Data d = prepare(o, false);
        std::printf("loaded %s\n", o.load.c_str());
        std::printf("test_accuracy=%.4f\n", net.accuracy(d.test.x, d.test.y));
        return 0;
    }

    Data d = prepare(o, true);
    Standardizer<float> standardize;
    standardize.fit(d.train.x).apply(d.train);
    standardize.apply(d.validation);
    std::printf("train %ld, validation %ld, test %ld samples of %ld features\n", long(d.train.size()),
                long(d.validation.size()), long(d.test.size()), long(d.train.features()));

    std::vector<Eigen::Index> sizes{d.train.features()};
    sizes.insert(sizes.end(), o.hidden.begin(), o.hidden.end());
    sizes.push_back(10);

    // Model selection: a short training per α, judged on the validation set only.
    double alpha = o.learning_rates.front();
    if (o.learning_rates.size() > 1) {
        std::vector<Hyperparameters> candidates;
        for (double a : o.learning_rates) candidates.push_back({a, o.lambda, o.hidden, ActivationKind::relu});
        const auto result = search(
            candidates,
            [&](const Hyperparameters& h) {
                Net net(sizes, o.seed);
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

    Net net(sizes, o.seed);
    const auto reports = train(net, o, alpha, d, o.epochs, true);
    double seconds = 0;
    for (const auto& r : reports) seconds += r.seconds;
    const auto& best = reports[static_cast<std::size_t>(reports.back().best_epoch - 1)];
    std::printf("trained %zu epochs in %.1f s; kept epoch %d: validation_accuracy=%.4f\n", reports.size(),
                seconds, best.epoch, best.validation_accuracy);

    // From here on the network takes raw pixels, as a saved model must.
    standardize.fold_into(net);
    if (!o.save.empty()) {
        descent::save(net, o.save);
        std::printf("saved %s\n", o.save.c_str());
    }
    if (!o.plot.empty()) {
        const std::string command = "gnuplot -e \"csv='" + o.log + "'; png='" + o.plot + "'\" " +
                                    DESCENT_EXAMPLES_DIR "/plot_learning_curves.gp";
        if (std::system(command.c_str()) != 0) std::fprintf(stderr, "warning: gnuplot failed; is it installed?\n");
    }
    std::printf("test_accuracy=%.4f\n", net.accuracy(d.test.x, d.test.y));
    return 0;
}

template <class G>
int run_with(const Options& o) {
    if (o.hidden.size() == 1) return run<Mlp<Dense<G>, Dense<Identity>>>(o);
    return run<Mlp<Dense<G>, Dense<G>, Dense<Identity>>>(o);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const auto o = parse(argc, argv);
        if (!o) {
            std::fputs(usage, stdout);
            return 0;
        }
        set_threads(o->threads);
        if (o->activation == "relu") return run_with<Relu>(*o);
        if (o->activation == "tanh") return run_with<Tanh>(*o);
        if (o->activation == "sigmoid") return run_with<Sigmoid>(*o);
        throw argument_error("--activation: relu, tanh or sigmoid, got '" + o->activation + "'");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fashion_mnist: error: %s\n", e.what());
        return 1;
    }
}
