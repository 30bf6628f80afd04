// Any common task from a CSV file: multi-class, binary or multi-label classification, or
// regression. It reads the file, guesses the task from the target column(s) unless told,
// holds out a test part (stratified by class) and, from what is left, a validation part for
// early stopping; standardises the inputs (and a regression's targets) with the training
// part's μ and σ only; trains a Network chosen at run time; folds the standardisation into
// W(1), b(1) (and W(L+1), b(L+1)) so that the saved model takes raw inputs and answers in the
// targets' own units; reports the test metrics of the task; and predicts from a second file.
//
//   D=/usr/lib/python3/dist-packages/sklearn/datasets/data
//   train_csv $D/iris.csv                                     # label last: 3 classes, softmax
//   train_csv $D/breast_cancer.csv --save cancer.model        # labels 0/1: one sigmoid output
//   train_csv $D/diabetes_data_raw.csv.gz --delimiter space
//             --targets $D/diabetes_target.csv.gz             # real targets: regression
//   train_csv --load cancer.model --predict new_patients.csv  # class and P(y = 1 | x) per row
//
// The metrics are printed one per line as name=value (test_accuracy=0.9737, test_r2=0.4512),
// for scripts and for the tests, which run it on scikit-learn's data sets.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
// The headers this program uses, rather than descent/descent.hpp, whose io/onnx_export.hpp does
// not compile today (describe(a) is ambiguous with descent::describe, found by ADL).
#include <descent/data/csv.hpp>
#include <descent/data/standardizer.hpp>
#include <descent/io/model_file.hpp>
#include <descent/metrics/classification.hpp>
#include <descent/metrics/regression.hpp>
#include <descent/network.hpp>
#include <descent/optimizers/adam.hpp>
#include <descent/optimizers/momentum.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/regularizers/l2.hpp>
#include <descent/threads.hpp>
#include <descent/training/fit.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "common/flags.hpp"

namespace {

using namespace descent;
using Scalar = double;  // data sets of a few hundred samples: double costs nothing here
using Matrix = Eigen::MatrixXd;
using Data = Dataset<Scalar>;

struct Options : examples::TrainingFlags {
    std::string data;
    std::vector<std::string> target{"-1"};  // column(s): an index (negative from the end) or a name
    std::string targets_file;               // the targets in a file of their own, every column one
    std::string task = "auto";
    std::vector<Eigen::Index> hidden{64};
    std::string activation = "relu";
    double dropout = 0;
    std::string optimizer = "adam";
    double lr = 0.003;
    double lambda = 1e-3;
    double test = 0.25;       // fraction of all samples held out for the test
    double validation = 0.2;  // fraction of the rest held out for early stopping
    int patience = 30;
    std::string test_file;  // a test set of the same layout instead of a split
    std::string delimiter = ",";
    std::size_t skip_rows = 0;
    std::string save, load, predict;

    Options() {
        epochs = 500;
        batch = 16;
    }
};

using Net = Network<Scalar>;

enum class Task { classification, binary, multilabel, regression };

const char* name(Task t) {
    switch (t) {
        case Task::classification:
            return "classification";
        case Task::binary:
            return "binary";
        case Task::multilabel:
            return "multilabel";
        default:
            return "regression";
    }
}

CsvColumn column(const std::string& text) {
    // "-1" and "4" are indices (the whole text a number); anything else names a header field.
    int index = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), index);
    if (error == std::errc() && end == text.data() + text.size() && !text.empty()) return CsvColumn(index);
    return CsvColumn(text);
}

CsvOptions csv_options(const Options& o, CsvOptions::Target target) {
    CsvOptions c;
    c.target = target;
    c.target_columns.clear();
    for (const auto& t : o.target) c.target_columns.push_back(column(t));
    c.skip_rows = o.skip_rows;
    if (o.delimiter == "space" || o.delimiter == " ")
        c.delimiter = ' ';
    else if (o.delimiter == "tab" || o.delimiter == "\\t")
        c.delimiter = '\t';
    else if (o.delimiter.size() == 1)
        c.delimiter = o.delimiter[0];
    else
        throw argument_error("--delimiter: expected one character, space or tab, got \"" + o.delimiter +
                             "\"");
    return c;
}

// The samples of a file with every target read as a real value (rows of data.targets): the task
// decides below whether they are class labels.
Data read_samples(const Options& o, const std::string& path) {
    if (o.targets_file.empty()) return read_csv<Scalar>(path, csv_options(o, CsvOptions::Target::real));
    Data data = read_csv<Scalar>(path, csv_options(o, CsvOptions::Target::none));
    data.targets = read_csv<Scalar>(o.targets_file, csv_options(o, CsvOptions::Target::none)).x;
    if (data.targets.cols() != data.x.cols())
        throw shape_error(o.targets_file + " has " + std::to_string(data.targets.cols()) + " rows but " +
                          path + " has " + std::to_string(data.x.cols()));
    return data;
}

bool all_integers(const Matrix& y, double low, double high) {
    return (y.array() == y.array().round()).all() && y.minCoeff() >= low && y.maxCoeff() <= high;
}

// The task the targets look like: one column of whole numbers 0, 1 is binary, of few whole
// numbers ≥ 0 (at most 20) a multi-class label; several columns of 0/1 are multi-label;
// anything else is regression. --task overrides the guess.
Task task_of(const Options& o, const Matrix& y) {
    if (o.task == "classification") return Task::classification;
    if (o.task == "binary") return Task::binary;
    if (o.task == "multilabel") return Task::multilabel;
    if (o.task == "regression") return Task::regression;
    if (o.task != "auto")
        throw argument_error("--task: expected auto, classification, binary, multilabel or regression, got " +
                             o.task);
    if (y.rows() > 1) return all_integers(y, 0, 1) ? Task::multilabel : Task::regression;
    if (all_integers(y, 0, 1)) return Task::binary;
    const std::set<double> values(y.data(), y.data() + y.size());
    return all_integers(y, 0, 1e6) && values.size() <= 20 ? Task::classification : Task::regression;
}

// Class labels move from the real-valued targets to Dataset::y, where split() stratifies by them.
void to_labels(Data& data) {
    if (data.targets.rows() != 1)
        throw argument_error("classification takes one target column of class labels, got " +
                             std::to_string(data.targets.rows()) +
                             " (several 0/1 columns: --task multilabel)");
    if (!all_integers(data.targets, 0, 1e6))
        throw label_error(
            "the target column holds values that are not class labels 0, 1, 2, ... "
            "(real values: --task regression)");
    data.y.assign(data.targets.size(), 0);
    for (Eigen::Index t = 0; t < data.targets.size(); ++t)
        data.y[static_cast<std::size_t>(t)] = int(data.targets(t));
    data.targets = Matrix();
}

template <class Opt>
std::vector<EpochReport> train(Net& net, Opt optimizer, const Data& train, const Data& valid,
                               FitOptions options) {
    if (train.has_labels()) {
        options.validate_on(valid.x, valid.y);
        return fit(net, optimizer, train.x, std::span<const int>(train.y), options);
    }
    options.validate_on(valid.x, valid.targets);
    return fit(net, optimizer, train.x, train.targets, options);
}

// The test metrics of the task, each as name=value on a line of its own.
void report(Network<Scalar>& net, Task task, const Data& test) {
    if (task == Task::regression) {
        const Matrix predicted = net.predict_values(test.x);  // in the targets' units: folded back
        std::printf("test_mse=%.4f\ntest_mae=%.4f\ntest_r2=%.4f\n",
                    mean_squared_error(predicted, test.targets), mean_absolute_error(predicted, test.targets),
                    r2_score(predicted, test.targets));
        return;
    }
    const Matrix p = net.predict_proba(test.x);
    if (task == Task::multilabel) {
        const Matrix decided = net.predict_values(test.x);  // f_k > 1/2
        const double hamming = (decided.array() == test.targets.array()).cast<double>().mean();
        const double exact =
            ((decided.array() == test.targets.array()).colwise().all()).cast<double>().mean();
        std::printf("test_label_accuracy=%.4f\ntest_exact_match=%.4f\ntest_log_loss=%.4f\n", hamming, exact,
                    binary_log_loss(p, test.targets));
        return;
    }
    const auto predicted = net.predict(test.x);
    const int classes = static_cast<int>(net.classes());
    const auto r = classification_report(predicted, test.y, classes);
    std::printf("class  precision  recall  f1      support\n");
    for (int c = 0; c < classes; ++c)
        std::printf("%-5d  %.4f     %.4f  %.4f  %d\n", c, r.precision(c), r.recall(c), r.f1(c), r.support(c));
    std::printf("test_macro_f1=%.4f\ntest_log_loss=%.4f\ntest_accuracy=%.4f\n", r.macro_f1,
                log_loss(p, test.y), r.accuracy);
}

// One line per sample of the file: the class and the probabilities, the 0/1 decisions and
// probabilities of each label, or the predicted values. The file holds the features alone, or
// the training file's layout (its target columns are then left out).
void predict_file(Network<Scalar>& net, const Options& o) {
    Data data = read_csv<Scalar>(o.predict, csv_options(o, CsvOptions::Target::none));
    if (data.x.rows() != net.inputs() && o.targets_file.empty())
        data = read_csv<Scalar>(o.predict, csv_options(o, CsvOptions::Target::real));
    if (data.x.rows() != net.inputs())
        throw shape_error(o.predict + " has " + std::to_string(data.x.rows()) +
                          " features; the model takes " + std::to_string(net.inputs()));
    const std::string head = net.head_name();
    for (Eigen::Index t = 0; t < data.x.cols(); ++t) {
        const Matrix x = data.x.col(t);
        std::printf("row %ld:", static_cast<long>(t + 1));
        if (head == SquaredError<Scalar>::name) {
            for (const double v : Eigen::VectorXd(net.predict_values(x))) std::printf(" %.4f", v);
        } else if (head == SigmoidCrossEntropy<Scalar>::name && net.outputs() > 1) {
            const Eigen::VectorXd d = net.predict_values(x), p = net.predict_proba(x);
            for (Eigen::Index k = 0; k < d.size(); ++k) std::printf(" %d (p=%.4f)", int(d(k)), p(k));
        } else {
            std::printf(" class %d p=", net.predict(x)[0]);
            const Eigen::VectorXd p = net.predict_proba(x);
            for (Eigen::Index k = 0; k < p.size(); ++k) std::printf("%s%.4f", k ? "," : "", p(k));
        }
        std::printf("\n");
    }
}

int run(const Options& o) {
    set_threads(o.threads);
    if (!o.load.empty()) {
        // A saved model predicts alone: the file says its architecture, head and θ.
        if (o.predict.empty()) throw argument_error("--load needs --predict FILE: the samples to predict");
        const ModelData model = load_model(o.load);
        Network<Scalar> net(model.architecture);
        net.parameters() = model.parameters;
        predict_file(net, o);
        return 0;
    }
    if (o.data.empty()) throw argument_error("give the data file (or --load MODEL --predict FILE)");

    // 1. Read, decide the task, cut off the test part (by class, so that each class keeps its share).
    Data all = read_samples(o, o.data);
    const Task task = task_of(o, all.targets);
    const bool labels = task == Task::classification || task == Task::binary;
    if (labels) to_labels(all);
    Data rest, test;
    if (o.test_file.empty()) {
        auto parts = split(all, o.test, o.seed);
        rest = std::move(parts.train);
        test = std::move(parts.validation);
    } else {
        if (!o.targets_file.empty())
            throw argument_error("--test-file takes the targets in the file, not --targets");
        rest = std::move(all);
        test = read_samples(o, o.test_file);
        if (labels) to_labels(test);
    }
    // 2. The validation part, for early stopping: the test part must not choose the epoch.
    auto [train_part, valid] = split(rest, o.validation, o.seed + 1);

    // 3. Standardise with the training part's μ and σ only: x ← (x − μ)/σ; for regression y too.
    Standardizer<Scalar> inputs, outputs;
    inputs.fit(train_part.x).apply(train_part.x);
    inputs.apply(valid.x);
    if (task == Task::regression) {
        outputs.fit(train_part.targets).apply(train_part.targets);
        outputs.apply(valid.targets);
    }

    // 4. The network: the head the task needs on top of the hidden layers.
    Eigen::Index out = 0;
    std::string head;
    switch (task) {
        case Task::classification:
            out = std::max(2, rest.classes());
            head = "softmax";
            break;
        case Task::binary:
            out = 1;
            head = "sigmoid";
            break;  // f(x) = P(y = 1 | x)
        case Task::multilabel:
            out = rest.targets.rows();
            head = "sigmoid";
            break;
        case Task::regression:
            out = rest.targets.rows();
            head = "identity";
            break;
    }
    std::ostringstream spec;
    spec << rest.features();
    for (const Eigen::Index h : o.hidden) {
        spec << '-' << h << ':' << o.activation;
        if (o.dropout > 0) spec << ":dropout=" << o.dropout;
    }
    spec << '-' << out << ':' << head;
    Net net(spec.str(), o.seed);
    std::printf("task=%s\nnetwork=%s\nsamples=%ld train, %ld validation, %ld test\n", name(task),
                net.spec().c_str(), long(train_part.size()), long(valid.size()), long(test.size()));

    // 5. Train: minibatches, L2 weight decay λ, early stopping on the validation loss, keeping
    // the best epoch's θ.
    FitOptions options;
    options.epochs = o.epochs;
    options.batch_size = o.batch;
    options.seed = o.seed;
    options.early_stopping = EarlyStopping{o.patience};
    std::vector<EpochReport> reports;
    if (o.optimizer == "adam")
        reports = train(net, Adam(o.lr, o.lambda, L2{}), train_part, valid, options);
    else if (o.optimizer == "momentum")
        reports = train(net, Momentum(o.lr, o.lambda, L2{}), train_part, valid, options);
    else if (o.optimizer == "sgd")
        reports = train(net, Sgd(o.lr, o.lambda, L2{}), train_part, valid, options);
    else
        throw argument_error("--optimizer: expected sgd, momentum or adam, got " + o.optimizer);
    const int best = reports.back().best_epoch;
    std::printf("epochs=%d best_epoch=%d validation_loss=%.4f\n", reports.back().epoch, best,
                best > 0 ? reports[static_cast<std::size_t>(best - 1)].validation_loss : NAN);

    // 6. Fold the standardisation into the network: it now takes raw x and answers in y's units,
    // so the test part is used as read, as a saved model will be.
    inputs.fold_into(net);
    if (task == Task::regression) outputs.fold_into_output(net);
    report(net, task, test);
    if (!o.save.empty()) save(static_cast<const Network<Scalar>&>(net), o.save);
    if (!o.predict.empty()) predict_file(net, o);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        Options o;
        CLI::App app("Trains a network on any common task from a CSV file and reports its test metrics.");
        app.add_option("data", o.data, "the CSV file (.csv.gz too): one sample per row")->type_name("FILE");
        app.add_option("--target", o.target, "target column(s), by index (-1: the last) or name")
            ->type_name("COL")
            ->delimiter(',')
            ->capture_default_str();
        app.add_option("--targets", o.targets_file, "the targets in a file of their own (every column one)")
            ->type_name("FILE");
        app.add_option("--task", o.task, "auto, classification, binary, multilabel or regression")
            ->type_name("T")
            ->capture_default_str();
        app.add_option("--hidden", o.hidden, "hidden layer widths")
            ->type_name("H,...")
            ->delimiter(',')
            ->capture_default_str();
        app.add_option("--activation", o.activation, "relu, tanh or sigmoid")
            ->type_name("G")
            ->capture_default_str();
        app.add_option("--dropout", o.dropout, "dropout rate of every hidden layer")
            ->type_name("P")
            ->capture_default_str();
        app.add_option("--optimizer", o.optimizer, "sgd, momentum or adam")
            ->type_name("O")
            ->capture_default_str();
        app.add_option("--lr", o.lr, "learning rate α")->type_name("A")->capture_default_str();
        app.add_option("--lambda", o.lambda, "L2 weight decay λ")->type_name("L")->capture_default_str();
        examples::add_training_flags(app, o);
        app.add_option("--test", o.test, "fraction held out for the test")
            ->type_name("F")
            ->capture_default_str();
        app.add_option("--validation", o.validation, "fraction of the rest held out for early stopping")
            ->type_name("F")
            ->capture_default_str();
        app.add_option("--patience", o.patience, "early stopping: epochs without a lower validation loss")
            ->type_name("P")
            ->capture_default_str();
        app.add_option("--test-file", o.test_file,
                       "a test set in a file of the same layout, instead of --test")
            ->type_name("FILE");
        app.add_option("--delimiter", o.delimiter, "the field separator: one character, space or tab")
            ->type_name("C")
            ->capture_default_str();
        app.add_option("--skip-rows", o.skip_rows, "lines to drop before the header or the data")
            ->type_name("N");
        app.add_option("--save", o.save, "save the trained model (it takes raw inputs)")->type_name("FILE");
        app.add_option("--load", o.load, "predict with a saved model instead of training")->type_name("FILE");
        app.add_option("--predict", o.predict, "print a prediction for every row of this file")
            ->type_name("FILE");
        if (!examples::parse(app, argc, argv)) return 0;
        return run(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "train_csv: %s\n", e.what());
        return 1;
    }
}
