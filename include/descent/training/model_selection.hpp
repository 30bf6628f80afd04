#pragma once
// Model selection: choose the hyperparameters (α, λ, the hidden sizes, the
// activation) by the validation accuracy of a network trained with each, never
// by the training set's, which rewards overfitting; the test set stays untouched
// until the choice is made.
//
// A trial is a callable that builds and trains the network itself, and returns
// either its TrialResult or a TrainedTrial<Net>{result, network}: then the search
// keeps the best trained network too (NetworkSearchResult). network_trial() is one
// over Network<Scalar> (network.hpp): any depth, widths and activation, chosen at
// run time; mlp_trial() gives its scores only. The searches only generate the
// candidates, run the trials and keep every result:
//   grid_search    the cartesian product of lists of values;
//   random_search  seeded draws: α and λ log-uniform between bounds, hidden sizes
//                  and activation uniformly from lists.
#include <Eigen/Core>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <functional>
#include <limits>
#include <locale>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../activations/identity.hpp"
#include "../activations/relu.hpp"
#include "../activations/sigmoid.hpp"
#include "../activations/tanh.hpp"
#include "../detail/check_range.hpp"
#include "../detail/random.hpp"
#include "../error.hpp"
#include "../network.hpp"
#include "../optimizers/sgd.hpp"
#include "../regularizers/l2.hpp"
#include "fit.hpp"

namespace descent {

// The hidden layers' g, as a value (network_trial gives it to Network<Scalar>).
enum class ActivationKind { sigmoid, tanh, relu };

inline const char* name(ActivationKind g) {
    switch (g) {
        case ActivationKind::sigmoid:
            return Sigmoid::name;
        case ActivationKind::tanh:
            return Tanh::name;
        case ActivationKind::relu:
            return Relu::name;
    }
    return "?";
}

struct Hyperparameters {
    double learning_rate = 0.1;             // α
    double lambda = 0;                      // λ
    std::vector<Eigen::Index> hidden{100};  // H_1, ..., H_L
    ActivationKind activation = ActivationKind::relu;
};

// "learning_rate=0.01 lambda=0.0001 hidden=100x50 activation=relu"
inline std::string to_string(const Hyperparameters& h) {
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out << "learning_rate=" << h.learning_rate << " lambda=" << h.lambda << " hidden=";
    for (std::size_t k = 0; k < h.hidden.size(); ++k) out << (k ? "x" : "") << h.hidden[k];
    out << " activation=" << name(h.activation);
    return out.str();
}

// What a trial reports; validation_accuracy is what the searches choose by.
struct TrialResult {
    double validation_accuracy = std::numeric_limits<double>::quiet_NaN();
    double validation_loss = std::numeric_limits<double>::quiet_NaN();
    int best_epoch = 0;  // the epoch whose parameters the figures are of (0 if not known)
    int epochs = 0;      // epochs run
    double seconds = 0;  // training time
};

struct Trial {
    Hyperparameters hyperparameters;
    TrialResult result;
};

struct SearchResult {
    std::vector<Trial> trials;  // every trial, in the order run
    // The index of the trial with the highest validation accuracy, the first of
    // equals; a NaN accuracy loses to any number (and if all are NaN, 0).
    std::size_t best = 0;
    const Trial& best_trial() const { return trials.at(best); }
};

// A trial's network after training, with its scores: what a trial returns when the search is to
// keep the best trained network, not only the scores.
template <class Net>
struct TrainedTrial {
    TrialResult result;
    Net network;
};

// SearchResult, and the network of the best trial, trained (TrainedTrial's).
template <class Net>
struct NetworkSearchResult : SearchResult {
    std::optional<Net> network;  // set after any search (a search runs at least one trial)
    Net& best_network() { return network.value(); }
    const Net& best_network() const { return network.value(); }
};

namespace detail {
// What a search returns for a trial that returns R.
template <class R>
struct search_result_of {
    using type = SearchResult;
};
template <class Net>
struct search_result_of<TrainedTrial<Net>> {
    using type = NetworkSearchResult<Net>;
};
}  // namespace detail

template <class F>
concept TrialFunction = requires(F& trial, const Hyperparameters& h) {
    { trial(h) } -> std::convertible_to<TrialResult>;
}
|| requires(F& trial, const Hyperparameters& h) {
    {trial(h).network};
    { trial(h).result } -> std::convertible_to<TrialResult>;
    requires !std::same_as<typename detail::search_result_of<std::remove_cvref_t<decltype(trial(h))>>::type,
                           SearchResult>;
};

// Called after each trial, with its index and the number of trials: for a log.
using TrialCallback = std::function<void(const Trial&, std::size_t index, std::size_t count)>;

// Runs trial on every candidate, in order, and picks the best: SearchResult for a trial that
// returns a TrialResult, NetworkSearchResult<Net> (holding the best trial's trained network,
// the others dropped as soon as they are beaten) for one that returns a TrainedTrial<Net>.
// throws: argument_error for no candidates; whatever trial throws.
template <TrialFunction F>
auto search(const std::vector<Hyperparameters>& candidates, F&& trial, const TrialCallback& on_trial = {}) {
    using Returned = std::remove_cvref_t<decltype(trial(std::declval<const Hyperparameters&>()))>;
    constexpr bool trained = !std::is_convertible_v<Returned, TrialResult>;
    using Result = typename detail::search_result_of<Returned>::type;
    if (candidates.empty()) throw argument_error("search: no candidate hyperparameters");
    Result result;
    result.trials.reserve(candidates.size());
    for (const auto& h : candidates) {
        Returned out = trial(h);
        if constexpr (trained)
            result.trials.push_back({h, out.result});
        else
            result.trials.push_back({h, out});
        const std::size_t i = result.trials.size() - 1;
        const double accuracy = result.trials[i].result.validation_accuracy;
        const double best = result.trials[result.best].result.validation_accuracy;
        if (accuracy > best || (std::isnan(best) && !std::isnan(accuracy))) result.best = i;
        if constexpr (trained)
            if (result.best == i) result.network.emplace(std::move(out.network));
        if (on_trial) on_trial(result.trials[i], i, candidates.size());
    }
    return result;
}

// The values a grid search takes: every combination is one trial.
struct Grid {
    std::vector<double> learning_rates{0.1};
    std::vector<double> lambdas{0.0};
    std::vector<std::vector<Eigen::Index>> hidden{{100}};
    std::vector<ActivationKind> activations{ActivationKind::relu};
};

// The cartesian product, activation outermost, then hidden sizes, then λ, then α.
// throws: argument_error when a list is empty.
inline std::vector<Hyperparameters> grid_candidates(const Grid& grid) {
    auto require = [](bool given, const char* what) {
        if (!given)
            throw argument_error(std::string("grid_search: Grid::") + what +
                                 " is empty (give at least one value)");
    };
    require(!grid.learning_rates.empty(), "learning_rates");
    require(!grid.lambdas.empty(), "lambdas");
    require(!grid.hidden.empty(), "hidden");
    require(!grid.activations.empty(), "activations");
    std::vector<Hyperparameters> candidates;
    for (const auto g : grid.activations)
        for (const auto& hidden : grid.hidden)
            for (const double lambda : grid.lambdas)
                for (const double alpha : grid.learning_rates)
                    candidates.push_back({alpha, lambda, hidden, g});
    return candidates;
}

template <TrialFunction F>
auto grid_search(const Grid& grid, F&& trial, const TrialCallback& on_trial = {}) {
    return search(grid_candidates(grid), trial, on_trial);
}

// Where a random search draws from.
struct RandomSpace {
    double learning_rate_min = 1e-4;  // α log-uniform in [min, max]; 0 < min <= max
    double learning_rate_max = 1.0;
    double lambda_min = 0;  // λ log-uniform in [min, max]; 0 < min <= max, or both 0 for λ = 0
    double lambda_max = 0;
    std::vector<std::vector<Eigen::Index>> hidden{{100}};           // one drawn uniformly
    std::vector<ActivationKind> activations{ActivationKind::relu};  // one drawn uniformly
};

// `count` candidates drawn from Engine(seed), the same on every platform. Each draws,
// in this order, α, λ, the hidden sizes, the activation (λ is drawn even when fixed at 0,
// so the other draws do not depend on it).
// throws: argument_error for count < 1, bounds out of range, or an empty list.
inline std::vector<Hyperparameters> random_candidates(const RandomSpace& space, int count,
                                                      std::uint64_t seed) {
    detail::require_at_least(count, 1, "random_search", "the number of trials");
    auto require_bounds = [](double min, double max, const char* what) {
        detail::require_positive(min, "random_search", what);
        if (!(std::isfinite(max) && max >= min))
            throw argument_error(std::string("random_search: ") + what +
                                 " bounds must satisfy min <= max, got [" + detail::number(min) + ", " +
                                 detail::number(max) + "]");
    };
    require_bounds(space.learning_rate_min, space.learning_rate_max, "learning rate");
    const bool no_lambda = space.lambda_min == 0 && space.lambda_max == 0;
    if (!no_lambda) require_bounds(space.lambda_min, space.lambda_max, "lambda");
    if (space.hidden.empty())
        throw argument_error("random_search: RandomSpace::hidden is empty (give at least one)");
    if (space.activations.empty())
        throw argument_error("random_search: RandomSpace::activations is empty (give at least one)");

    // exp(log min + u (log max - log min)): each factor of 10 between the bounds is as likely.
    auto log_uniform = [](Engine& engine, double min, double max) {
        return std::exp(std::log(min) + detail::uniform01(engine) * (std::log(max) - std::log(min)));
    };
    Engine engine(seed);
    std::vector<Hyperparameters> candidates;
    for (int i = 0; i < count; ++i) {
        Hyperparameters h;
        h.learning_rate = log_uniform(engine, space.learning_rate_min, space.learning_rate_max);
        const double lambda = no_lambda ? (detail::uniform01(engine), 0.0)
                                        : log_uniform(engine, space.lambda_min, space.lambda_max);
        h.lambda = lambda;
        h.hidden = space.hidden[detail::uniform_below(engine, space.hidden.size())];
        h.activation = space.activations[detail::uniform_below(engine, space.activations.size())];
        candidates.push_back(std::move(h));
    }
    return candidates;
}

template <TrialFunction F>
auto random_search(const RandomSpace& space, int count, std::uint64_t seed, F&& trial,
                   const TrialCallback& on_trial = {}) {
    return search(random_candidates(space, count, seed), trial, on_trial);
}

// A trial for the searches over Network<Scalar>: builds inputs -> hidden... -> classes (each
// hidden layer of h.activation, the output layer identity under softmax_cross_entropy) of any
// depth, with weights from `seed`, trains it with Sgd<L2>(α, λ) under `options` (epochs, batch
// size, early stopping...) on (x, y), validated on (x_val, y_val), and returns the validation
// figures of the parameters it ends with (the best epoch's, with early stopping) together with
// the trained network: the search keeps the best (NetworkSearchResult::best_network()).
// The data are referenced, not copied: they must outlive the trial.
// The trial throws the errors of Network (a width below 1), Sgd and fit.
template <std::floating_point Scalar>
auto network_trial(const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& x, std::span<const int> y,
                   const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& x_val,
                   std::span<const int> y_val, Eigen::Index classes, FitOptions options,
                   std::uint64_t seed = 0) {
    options.validate_on(x_val, y_val);
    return [&x, y, classes, options = std::move(options),
            seed](const Hyperparameters& h) -> TrainedTrial<Network<Scalar>> {
        std::vector<HiddenLayer> hidden;
        for (const Eigen::Index width : h.hidden) hidden.push_back({width, name(h.activation)});
        Network<Scalar> net(x.rows(), hidden, classes, SoftmaxCrossEntropy<Scalar>::name, seed);
        Sgd<L2> sgd(h.learning_rate, h.lambda);
        const auto reports = fit(net, sgd, x, y, options);
        // With early stopping, the network holds the best epoch's θ: report that epoch.
        const EpochReport& last = reports.back();
        const EpochReport& kept = options.early_stopping && last.best_epoch > 0
                                      ? reports[static_cast<std::size_t>(last.best_epoch - 1)]
                                      : last;
        TrialResult result;
        result.validation_accuracy = kept.validation_accuracy;
        result.validation_loss = kept.validation_loss;
        result.best_epoch = kept.epoch;
        result.epochs = last.epoch;
        for (const auto& r : reports) result.seconds += r.seconds;
        return {result, std::move(net)};
    };
}

// network_trial's scores without its network, for a search that needs only the choice. The
// network is a Network<Scalar>, whose numbers are Mlp's bit for bit: the trial of a depth that
// an Mlp type would have given reports what it would have.
template <std::floating_point Scalar>
auto mlp_trial(const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& x, std::span<const int> y,
               const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>& x_val, std::span<const int> y_val,
               Eigen::Index classes, FitOptions options, std::uint64_t seed = 0) {
    return [trial = network_trial(x, y, x_val, y_val, classes, std::move(options), seed)](
               const Hyperparameters& h) -> TrialResult { return trial(h).result; };
}

}  // namespace descent
