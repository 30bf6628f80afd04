#pragma once
// The flags the Fashion-MNIST programs share (examples/fashion_mnist, examples/fashion_mnist_mpi,
// bench/train_fashion_mnist), declared once with CLI11 (Debian's libcli11-dev, header-only).
// A declaration gives a flag's name, the word --help shows for its value, its help line, and its
// default (the value the variable holds when it is declared), so that --help is generated from
// what the program really parses. A program sets its own defaults before declaring.
#include <CLI/CLI.hpp>
#include <Eigen/Core>
#include <cstdint>
#include <cstdio>
#include <string>

namespace examples {

// What every program that trains takes.
struct TrainingFlags {
    int epochs = 10;
    Eigen::Index batch = 128;
    std::uint64_t seed = 1;
    int threads = 1;
};

// What the two examples take besides: where the data are, the recipe (momentum, decay of α,
// λ, early stopping, the held-out set), where the model goes, and the progress line.
struct RecipeFlags {
    std::string data = "/usr/share/datasets/fashion-mnist";
    double momentum = 0.9;
    double decay = 0.5;  // β of α_t = α / (1 + β t), t counted in epochs
    double lambda = 1e-3;
    int patience = 8;
    Eigen::Index validation = 10000;
    std::string save;
    bool quiet = false;
};

// A string that does not start with '-': CLI11 reads "-1" into an unsigned integer as 2^64 - 1.
inline const CLI::Validator not_negative(
    [](std::string& text) {
        return text.starts_with('-') ? "expected a number >= 0, got " + text : std::string();
    },
    "", "not negative");

inline void add_training_flags(CLI::App& app, TrainingFlags& f) {
    app.add_option("--epochs", f.epochs, "most epochs (early stopping may end the training sooner)")
        ->type_name("N")
        ->capture_default_str();
    app.add_option("--batch", f.batch, "minibatch size B (1 is per-example SGD)")
        ->type_name("B")
        ->capture_default_str();
    app.add_option("--seed", f.seed, "weights, split and shuffling")
        ->type_name("S")
        ->check(not_negative)
        ->capture_default_str();
    app.add_option("--threads", f.threads, "threads for the matrix products")
        ->type_name("T")
        ->capture_default_str();
}

inline void add_recipe_flags(CLI::App& app, RecipeFlags& f) {
    app.add_option("--data", f.data, "the directory of the IDX files")
        ->type_name("DIR")
        ->capture_default_str();
    app.add_option("--momentum", f.momentum, "classical momentum, 0 for plain SGD")
        ->type_name("M")
        ->capture_default_str();
    app.add_option("--decay", f.decay, "learning-rate decay: α_t = α / (1 + B t), t in epochs")
        ->type_name("B")
        ->capture_default_str();
    app.add_option("--lambda", f.lambda, "L2 weight decay λ")->type_name("L")->capture_default_str();
    app.add_option("--patience", f.patience, "early stopping: epochs without a lower validation loss")
        ->type_name("P")
        ->capture_default_str();
    app.add_option("--validation", f.validation, "samples held out from the training set")
        ->type_name("N")
        ->capture_default_str();
    app.add_option("--save", f.save, "save the trained model")->type_name("FILE");
    app.add_flag("--quiet", f.quiet, "no progress line");
}

// Reads argv into the declared flags. False when --help asked for the list of flags instead,
// printed on stdout when print_help (an MPI job prints it on one rank only). A flag that is
// unknown, given twice, lacks its value or has a value that does not convert throws
// CLI::ParseError, a std::runtime_error whose message is one line naming the flag.
inline bool parse(CLI::App& app, int argc, const char* const* argv, bool print_help = true) {
    try {
        app.parse(argc, argv);
        return true;
    } catch (const CLI::CallForHelp&) {
        if (print_help) std::fputs(app.help().c_str(), stdout);
        return false;
    }
}

}  // namespace examples
