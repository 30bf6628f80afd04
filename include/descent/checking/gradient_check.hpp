#pragma once
// Gradient checking by central finite differences, in double whatever the
// network's scalar type, J = l + λΩ over the batch:
//   ∂J/∂θ_i ≈ (-J(θ + 2ε e_i) + 8 J(θ + ε e_i) - 8 J(θ - ε e_i) + J(θ - 2ε e_i)) / 12ε
// The five-point stencil's error is O(ε⁴) rather than the two-point's O(ε²), so ε can
// be large enough (1e-3) that round-off in J (~1e-16 / ε) stays far below the
// gradients checked: with the two-point stencil at ε = 1e-6 round-off alone is
// ~1e-10, a relative error of 1e-4 on a gradient of 1e-6 deep in a sigmoid network.
// A kink of J within 2ε (a ReLU pre-activation or an L1 weight crossing 0) spoils
// the estimate, so each is made twice, at ε and ε/2: where they disagree by more than
// O(ε⁴) allows, J is not smooth there and ε shrinks tenfold, down to 1e-3 ε.
// Usable from a user's own tests on any Mlp or Network, with every head, and with dropout
// when its masks are fixed (fix_dropout_masks).
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "../regularizers/penalty.hpp"
#include "../error.hpp"
#include "../regularizers/no_regularization.hpp"
#include "../regularizers/regularizer.hpp"

namespace descent {

struct BlockCheck {
    std::string name;           // "W(1)", "b(1)", ...
    double max_relative_error;  // max_i |g_i - n_i| / max(|g_i|, |n_i|, floor)
    Eigen::Index worst_index;   // within the block
};

struct GradientCheckOptions {
    double epsilon = 1e-3;
    // Below this magnitude both gradients count as zero: the error is taken
    // relative to the floor, since a relative error of two round-offs means nothing.
    double floor = 1e-8;
    // Two estimates agreeing within stability * max(1, |estimate|) mean J is smooth there.
    double stability = 1e-9;
};

namespace detail {

template <class Net, class Y, Regularizer Omega>
std::vector<BlockCheck> check_gradients_of(const Net& net, const Eigen::Ref<const typename Net::Matrix>& x,
                                           const Y& y, const Omega& omega, double lambda,
                                           GradientCheckOptions options) {
    if (net.has_dropout() && !net.dropout_masks_fixed())
        throw argument_error(
            "check_gradients: dropout draws a new mask at every pass, so the training loss is no function of "
            "θ "
            "to differentiate: call fix_dropout_masks(seed) on the network first");
    auto probe = net.template cast<double>();
    const Eigen::MatrixXd xd = x.template cast<double>();

    // With dropout the loss that compute_gradient differentiates is the one with its masks, which
    // loss() (dropout off) is not; with fixed masks every pass draws the same ones.
    const bool dropout = probe.has_dropout();
    auto J = [&] {
        const double l = dropout ? static_cast<double>(probe.compute_gradient(xd, y))
                                 : static_cast<double>(probe.loss(xd, y));
        return l + weight_penalty(probe, omega, lambda);
    };
    probe.compute_gradient(xd, y);
    add_weight_penalty_gradient(probe, omega, lambda);
    const Eigen::VectorXd analytic = probe.gradient();

    std::vector<BlockCheck> result;
    auto theta = probe.parameters();
    for (const auto& block : probe.parameter_blocks()) {
        BlockCheck check{block.name, 0.0, 0};
        for (Eigen::Index i = 0; i < block.size(); ++i) {
            double& t = theta(block.offset + i);
            const double saved = t;
            auto estimate = [&](double eps) {
                auto at = [&](double step) {
                    t = saved + step * eps;
                    return J();
                };
                // Symmetric differences first: each is exact when J is flat (Sterbenz),
                // so a gradient that is exactly 0 is estimated as exactly 0.
                const double near = at(1) - at(-1);
                const double far = at(2) - at(-2);
                const double n = (8 * near - far) / (12 * eps);
                t = saved;
                return n;
            };
            double eps = options.epsilon;
            double numeric = estimate(eps);
            for (int shrink = 0; shrink <= 3; ++shrink) {
                const double finer = estimate(eps / 2);
                const bool smooth =
                    std::abs(finer - numeric) <= options.stability * std::max(1.0, std::abs(finer));
                numeric = finer;
                if (smooth || shrink == 3) break;
                eps /= 10;
                numeric = estimate(eps);
            }
            const double g = analytic(block.offset + i);
            const double scale = std::max({std::abs(g), std::abs(numeric), options.floor});
            const double error = std::abs(g - numeric) / scale;
            if (error > check.max_relative_error) {
                check.max_relative_error = error;
                check.worst_index = i;
            }
        }
        result.push_back(check);
    }
    return result;
}

}  // namespace detail

// The largest relative error between backpropagation and finite differences, per parameter
// block, for class labels or a target matrix (whatever the network's head takes). The network is
// copied to double (cast<double>()); net itself is not changed.
// throws: what net.compute_gradient throws for x and the targets; argument_error when dropout is
//         on without fixed masks (fix_dropout_masks).
template <class Net, Regularizer Omega = NoRegularization>
std::vector<BlockCheck> check_gradients(const Net& net, const Eigen::Ref<const typename Net::Matrix>& x,
                                        std::span<const int> labels, const Omega& omega = {},
                                        double lambda = 0.0, GradientCheckOptions options = {}) {
    return detail::check_gradients_of(net, x, labels, omega, lambda, options);
}
template <class Net, Regularizer Omega = NoRegularization>
std::vector<BlockCheck> check_gradients(const Net& net, const Eigen::Ref<const typename Net::Matrix>& x,
                                        const Eigen::Ref<const typename Net::Matrix>& targets,
                                        const Omega& omega = {}, double lambda = 0.0,
                                        GradientCheckOptions options = {}) {
    const Eigen::MatrixXd y = targets.template cast<double>();
    return detail::check_gradients_of(net, x, y, omega, lambda, options);
}

}  // namespace descent
