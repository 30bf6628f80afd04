// Model selection: grid and random search choose by validation accuracy and report every trial.
#include <algorithm>
#include <cmath>
#include <descent/training/model_selection.hpp>
#include <limits>
#include <set>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using descent::ActivationKind;
using descent::Hyperparameters;
using descent::TrialResult;

namespace {

// A made-up accuracy with one peak, at α = 0.1, λ = 0.001, hidden 50, tanh: the search
// must find it among the others.
TrialResult made_up(const Hyperparameters& h) {
    TrialResult r;
    r.validation_accuracy = 0.9 - 0.1 * std::abs(std::log10(h.learning_rate / 0.1)) -
                            (h.lambda == 0.001 ? 0.0 : 0.05) -
                            (h.hidden == std::vector<Eigen::Index>{50} ? 0.0 : 0.02) -
                            (h.activation == ActivationKind::tanh ? 0.0 : 0.03);
    return r;
}

}  // namespace

TEST_CASE("Grid search runs the cartesian product and picks the highest validation accuracy",
          "[model_selection]") {
    descent::Grid grid;
    grid.learning_rates = {0.01, 0.1, 1.0};
    grid.lambdas = {0.0, 0.001};
    grid.hidden = {{20}, {50}, {50, 20}};
    grid.activations = {ActivationKind::relu, ActivationKind::tanh};
    std::vector<std::size_t> seen;
    const auto result =
        descent::grid_search(grid, made_up, [&](const descent::Trial& t, std::size_t i, std::size_t n) {
            CHECK(n == 36);
            CHECK(t.result.validation_accuracy == made_up(t.hyperparameters).validation_accuracy);
            seen.push_back(i);
        });
    REQUIRE(result.trials.size() == 3 * 2 * 3 * 2);
    CHECK(seen.size() == 36);
    CHECK(seen.back() == 35);
    // Every combination once: activation outermost, α innermost.
    std::set<std::string> distinct;
    for (const auto& t : result.trials) distinct.insert(descent::to_string(t.hyperparameters));
    CHECK(distinct.size() == 36);
    CHECK(result.trials[0].hyperparameters.activation == ActivationKind::relu);
    CHECK(result.trials[1].hyperparameters.learning_rate == 0.1);
    CHECK(result.trials[35].hyperparameters.activation == ActivationKind::tanh);
    const auto& best = result.best_trial().hyperparameters;
    CHECK(best.learning_rate == 0.1);
    CHECK(best.lambda == 0.001);
    CHECK(best.hidden == std::vector<Eigen::Index>{50});
    CHECK(best.activation == ActivationKind::tanh);
    for (const auto& t : result.trials)
        CHECK(t.result.validation_accuracy <= result.best_trial().result.validation_accuracy);
}

TEST_CASE("search keeps the first of equal accuracies, and a NaN never wins", "[model_selection]") {
    std::vector<Hyperparameters> candidates(4);
    const std::vector<double> accuracy{std::numeric_limits<double>::quiet_NaN(), 0.5, 0.7, 0.7};
    for (std::size_t i = 0; i < 4; ++i) candidates[i].learning_rate = 0.1 * static_cast<double>(i + 1);
    const auto result = descent::search(candidates, [&](const Hyperparameters& h) {
        TrialResult r;
        r.validation_accuracy = accuracy[static_cast<std::size_t>(std::lround(h.learning_rate * 10)) - 1];
        return r;
    });
    CHECK(result.best == 2);
    CHECK(result.trials.size() == 4);
}

TEST_CASE("Random search draws reproducibly within its bounds", "[model_selection]") {
    descent::RandomSpace space;
    space.learning_rate_min = 1e-3;
    space.learning_rate_max = 1.0;
    space.lambda_min = 1e-6;
    space.lambda_max = 1e-2;
    space.hidden = {{10}, {20, 10}, {30}};
    space.activations = {ActivationKind::sigmoid, ActivationKind::relu};
    const auto a = descent::random_candidates(space, 200, 42);
    const auto b = descent::random_candidates(space, 200, 42);
    const auto c = descent::random_candidates(space, 200, 43);
    REQUIRE(a.size() == 200);
    int below_decade = 0;  // α in [1e-3, 1e-2): a third of the log range
    std::set<std::size_t> hidden_seen;
    std::set<ActivationKind> activations_seen;
    for (std::size_t i = 0; i < a.size(); ++i) {
        CHECK(descent::to_string(a[i]) == descent::to_string(b[i]));
        CHECK(a[i].learning_rate >= 1e-3);
        CHECK(a[i].learning_rate <= 1.0);
        CHECK(a[i].lambda >= 1e-6);
        CHECK(a[i].lambda <= 1e-2);
        below_decade += a[i].learning_rate < 1e-2;
        hidden_seen.insert(static_cast<std::size_t>(
            std::find(space.hidden.begin(), space.hidden.end(), a[i].hidden) - space.hidden.begin()));
        activations_seen.insert(a[i].activation);
    }
    CHECK(descent::to_string(a[0]) != descent::to_string(c[0]));
    // Log-uniform: about 200/3 ≈ 67 in the lowest decade (uniform would give about 2).
    CHECK(below_decade > 40);
    CHECK(below_decade < 95);
    CHECK(hidden_seen == std::set<std::size_t>{0, 1, 2});
    CHECK(activations_seen.size() == 2);

    SECTION("random_search runs one trial per draw") {
        const auto result = descent::random_search(space, 25, 42, made_up);
        REQUIRE(result.trials.size() == 25);
        for (std::size_t i = 0; i < 25; ++i)
            CHECK(descent::to_string(result.trials[i].hyperparameters) == descent::to_string(a[i]));
        const auto best =
            std::max_element(result.trials.begin(), result.trials.end(), [](const auto& x, const auto& y) {
                return x.result.validation_accuracy < y.result.validation_accuracy;
            });
        CHECK(result.best == static_cast<std::size_t>(best - result.trials.begin()));
    }
    SECTION("λ bounds of 0 give λ = 0") {
        space.lambda_min = space.lambda_max = 0;
        for (const auto& h : descent::random_candidates(space, 10, 1)) CHECK(h.lambda == 0);
    }
}

TEST_CASE("mlp_trial and network_trial train real networks for every activation and depth",
          "[model_selection]") {
    // Two blobs, separable along x_0: any reasonable network reaches full validation accuracy,
    // a learning rate far too small does not move from chance.
    const Eigen::MatrixXf x = descent::test::pseudo_random<float>(2, 60, 1);
    const Eigen::MatrixXf x_val = descent::test::pseudo_random<float>(2, 40, 2);
    auto labels = [](const Eigen::MatrixXf& m) {
        std::vector<int> y(static_cast<std::size_t>(m.cols()));
        for (Eigen::Index t = 0; t < m.cols(); ++t) y[static_cast<std::size_t>(t)] = m(0, t) > 0 ? 1 : 0;
        return y;
    };
    const auto y = labels(x);
    const auto y_val = labels(x_val);
    descent::FitOptions options;
    options.epochs = 40;
    options.batch_size = 10;
    options.early_stopping = descent::EarlyStopping{10, 0.0};
    descent::Grid grid;
    grid.learning_rates = {1e-6, 0.5};
    grid.lambdas = {0.0};
    grid.hidden = {{8}, {8, 4}};
    grid.activations = {ActivationKind::sigmoid, ActivationKind::tanh, ActivationKind::relu};
    const auto result = descent::grid_search(grid, descent::mlp_trial(x, y, x_val, y_val, 2, options, 3));
    REQUIRE(result.trials.size() == 12);
    for (const auto& t : result.trials) {
        CAPTURE(descent::to_string(t.hyperparameters));
        CHECK(t.result.epochs >= 1);
        CHECK(t.result.best_epoch >= 1);
        CHECK(t.result.best_epoch <= t.result.epochs);
        CHECK(std::isfinite(t.result.validation_loss));
        if (t.hyperparameters.learning_rate == 0.5) CHECK(t.result.validation_accuracy >= 0.9);
    }
    CHECK(result.best_trial().hyperparameters.learning_rate == 0.5);
    CHECK(result.best_trial().result.validation_accuracy >= 0.9);

    SECTION("network_trial: any depth, and the search keeps the best trained network") {
        descent::Grid deep;
        deep.learning_rates = {1e-6, 0.5};
        deep.hidden = {{8, 8, 8}, {6, 5, 4, 3}};
        deep.activations = {ActivationKind::tanh};
        auto searched = descent::grid_search(deep, descent::network_trial(x, y, x_val, y_val, 2, options, 3));
        REQUIRE(searched.trials.size() == 4);
        const auto& best = searched.best_trial();
        CHECK(best.hyperparameters.learning_rate == 0.5);
        descent::Network<float>& net = searched.best_network();
        std::vector<Eigen::Index> sizes{2};
        sizes.insert(sizes.end(), best.hyperparameters.hidden.begin(), best.hyperparameters.hidden.end());
        sizes.push_back(2);
        CHECK(net.sizes() == sizes);
        // the network is the trained one: its validation accuracy is the trial's
        CHECK(net.accuracy(x_val, y_val) == best.result.validation_accuracy);
        // and mlp_trial reports the same scores, without the network
        auto scores = descent::mlp_trial(x, y, x_val, y_val, 2, options, 3);
        const auto same = scores(best.hyperparameters);
        CHECK(same.validation_accuracy == best.result.validation_accuracy);
        CHECK(same.validation_loss == best.result.validation_loss);
    }
}

TEST_CASE("search keeps the network of the best trial, the first of equals", "[model_selection]") {
    std::vector<Hyperparameters> candidates(4);
    for (std::size_t i = 0; i < candidates.size(); ++i) candidates[i].learning_rate = static_cast<double>(i);
    const double accuracies[] = {0.5, 0.9, 0.9, 0.1};
    int built = 0;
    const auto result = descent::search(candidates, [&](const Hyperparameters& h) {
        descent::TrialResult r;
        r.validation_accuracy = accuracies[static_cast<std::size_t>(h.learning_rate)];
        return descent::TrainedTrial<int>{r, built++};
    });
    CHECK(result.best == 1);
    CHECK(result.best_network() == 1);
    CHECK(result.trials.size() == 4);
}

TEST_CASE("Searches refuse empty lists and bad bounds", "[model_selection]") {
    descent::Grid grid;
    grid.learning_rates.clear();
    CHECK_THROWS_AS(descent::grid_search(grid, made_up), descent::argument_error);
    CHECK_THROWS_WITH(descent::grid_search(grid, made_up), Contains("Grid::learning_rates is empty"));
    grid = {};
    grid.activations.clear();
    CHECK_THROWS_WITH(descent::grid_search(grid, made_up), Contains("Grid::activations is empty"));

    descent::RandomSpace space;
    CHECK_THROWS_WITH(descent::random_search(space, 0, 1, made_up),
                      Contains("the number of trials must be at least 1, got 0"));
    space.learning_rate_min = 0;
    CHECK_THROWS_WITH(descent::random_candidates(space, 5, 1),
                      Contains("random_search: learning rate must be positive and finite, got 0"));
    space.learning_rate_min = 0.1;
    space.learning_rate_max = 0.01;
    CHECK_THROWS_WITH(descent::random_candidates(space, 5, 1),
                      Contains("learning rate bounds must satisfy min <= max, got [0.1, 0.01]"));
    space = {};
    space.lambda_max = 1e-3;  // min 0 with max > 0: no log-uniform draw
    CHECK_THROWS_AS(descent::random_candidates(space, 5, 1), descent::argument_error);
    space = {};
    space.hidden.clear();
    CHECK_THROWS_WITH(descent::random_candidates(space, 5, 1), Contains("RandomSpace::hidden is empty"));
    CHECK_THROWS_WITH(descent::search({}, made_up), Contains("no candidate hyperparameters"));
}

TEST_CASE("Hyperparameters print as one line", "[model_selection]") {
    Hyperparameters h;
    h.learning_rate = 0.01;
    h.lambda = 1e-4;
    h.hidden = {100, 50};
    h.activation = ActivationKind::tanh;
    CHECK(descent::to_string(h) == "learning_rate=0.01 lambda=0.0001 hidden=100x50 activation=tanh");
}
