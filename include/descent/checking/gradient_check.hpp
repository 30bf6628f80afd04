#pragma once
// Gradient checking by central finite differences, in double whatever the
// network's scalar type:
//   ∂J/∂θ_i ≈ (J(θ + ε e_i) - J(θ - ε e_i)) / 2ε,  J = l + λΩ over the batch.
// Usable from a user's own tests on any Mlp.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "../regularizers/no_regularization.hpp"
#include "../regularizers/regularizer.hpp"
#include "../training/objective.hpp"

namespace descent {

struct BlockCheck {
    std::string name;             // "W(1)", "b(1)", ...
    double max_relative_error;    // max_i |g_i - n_i| / max(|g_i|, |n_i|, floor)
    Eigen::Index worst_index;     // within the block
};

struct GradientCheckOptions {
    double epsilon = 1e-6;
    // Below this magnitude both gradients count as zero: the error is taken
    // relative to the floor, since a relative error of two round-offs means nothing.
    double floor = 1e-8;
};

// The largest relative error between backpropagation and finite differences, per
// parameter block. The network is copied to double; net itself is not changed.
template <class Net, Regularizer Omega = NoRegularization>
std::vector<BlockCheck> check_gradients(const Net& net, const Eigen::Ref<const typename Net::Matrix>& x,
                                        std::span<const int> labels, const Omega& omega = {},
                                        double lambda = 0.0, GradientCheckOptions options = {}) {
    using DoubleNet = typename Net::template rebind<double>;
    DoubleNet probe(net.sizes());
    probe.parameters() = net.parameters().template cast<double>();
    const Eigen::MatrixXd xd = x.template cast<double>();

    objective_gradient(probe, xd, labels, omega, lambda);
    const Eigen::VectorXd analytic = probe.gradient();

    std::vector<BlockCheck> result;
    auto theta = probe.parameters();
    for (const auto& block : probe.parameter_blocks()) {
        BlockCheck check{block.name, 0.0, 0};
        for (Eigen::Index i = 0; i < block.size(); ++i) {
            double& t = theta(block.offset + i);
            const double saved = t;
            t = saved + options.epsilon;
            const double plus = objective(probe, xd, labels, omega, lambda);
            t = saved - options.epsilon;
            const double minus = objective(probe, xd, labels, omega, lambda);
            t = saved;
            const double numeric = (plus - minus) / (2 * options.epsilon);
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

}  // namespace descent
