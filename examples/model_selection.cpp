// Model selection: choose the hyperparameters by a held-out validation set.
//
// Training error always falls as a model grows and as λ shrinks, so it cannot pick
// them. The course's recipe: split the data into training, validation and test
// sets; train one model per candidate (α, λ, hidden sizes, g) on the training set;
// keep the one with the best validation accuracy; only then, and once, report its
// accuracy on the test set. Grid search tries every combination of given values;
// random search draws them (α and λ log-uniformly), and often finds as good a model
// with fewer trials when only some hyperparameters matter. The networks are
// Network<double> (network.hpp), so the depth is searched like any other value, and
// each search hands back its best network already trained (network_trial).
#include <cstdio>
#include <descent/descent.hpp>

#include "common/uniform.hpp"

namespace {

// Two interleaved spirals with noise: a problem where capacity and λ both matter.
descent::Dataset<double> spirals(int n, std::uint64_t seed) {
    descent::Engine engine(seed);
    descent::Dataset<double> d{Eigen::MatrixXd(2, n), std::vector<int>(static_cast<std::size_t>(n))};
    for (int t = 0; t < n; ++t) {
        const int label = t % 2;
        const double r = examples::uniform(engine, 0, 1);
        const double angle = 3.5 * r * 3.14159265 + label * 3.14159265;
        d.x(0, t) = r * std::cos(angle) + 0.08 * examples::uniform(engine, -0.5, 0.5);
        d.x(1, t) = r * std::sin(angle) + 0.08 * examples::uniform(engine, -0.5, 0.5);
        d.y[static_cast<std::size_t>(t)] = label;
    }
    return d;
}

void print(const descent::Trial& trial, std::size_t i, std::size_t n) {
    std::printf("  trial %2zu/%zu  %-62s validation_accuracy=%.3f\n", i + 1, n,
                descent::to_string(trial.hyperparameters).c_str(), trial.result.validation_accuracy);
}

}  // namespace

int main() {
    using namespace descent;
    set_threads(1);  // tiny networks: one core is plenty, and leaves the other free
    const auto train = spirals(600, 1), validation = spirals(300, 2), test = spirals(300, 3);

    FitOptions options;
    options.epochs = 60;
    options.batch_size = 16;
    options.early_stopping = EarlyStopping{10, 0.0};  // each trial keeps its best epoch
    auto trial =
        network_trial(train.x, train.y, validation.x, validation.y, /*classes=*/2, options, /*seed=*/7);

    std::printf("grid search\n");
    Grid grid;
    grid.learning_rates = {0.03, 0.3};
    grid.lambdas = {0.0, 1e-3};
    grid.hidden = {{8}, {32, 32}, {16, 16, 16}};
    grid.activations = {ActivationKind::tanh, ActivationKind::relu};
    const auto by_grid = grid_search(grid, trial, print);

    std::printf("random search\n");
    RandomSpace space;
    space.learning_rate_min = 0.01;
    space.learning_rate_max = 0.5;
    space.lambda_min = 1e-5;
    space.lambda_max = 1e-2;
    space.hidden = {{8}, {32}, {32, 32}, {16, 16, 16}};
    space.activations = {ActivationKind::tanh, ActivationKind::relu};
    const auto by_random = random_search(space, 6, /*seed=*/5, trial, print);

    auto by_grid_or_random =
        by_grid.best_trial().result.validation_accuracy >= by_random.best_trial().result.validation_accuracy
            ? by_grid
            : by_random;
    const auto& best = by_grid_or_random.best_trial();
    Network<double>& net = by_grid_or_random.best_network();
    std::printf("chosen by validation: %s %s (validation_accuracy=%.3f)\n", net.spec().c_str(),
                to_string(best.hyperparameters).c_str(), best.result.validation_accuracy);

    // Only now does the test set come out: the chosen network, as trained, measured once.
    std::printf("test_accuracy=%.3f\n", net.accuracy(test.x, test.y));
}
