#pragma once
// Standardisation: each feature i centred and scaled, x_i ← (x_i − μ_i) / σ_i,
// so that every input of the first layer has mean 0 and variance 1 and no
// feature dominates a(1) = W(1) x + b(1) by its units alone. For regression the
// targets too: a squared error on targets of the order of 100 (diabetes) gives
// gradients 10⁴ times those on targets of order 1, and a learning rate to match.
//
// μ and σ are fitted on the training part only and then applied, unchanged, to
// validation and test data: fitting them on held-out data would leak it into
// the model.
//
//   descent::Standardizer<float> standardize;
//   standardize.fit(train.x);
//   standardize.apply(train);  standardize.apply(validation);  standardize.apply(test);
//   ... train; then standardize.fold_into(net): the network takes raw inputs.
//
//   descent::Standardizer<float> standardize_y;                 // regression targets
//   standardize_y.fit(train.targets).apply(train.targets);
//   ... train; then standardize_y.fold_into_output(net): it predicts in y's units.
#include <Eigen/Core>
#include <cmath>
#include <concepts>
#include <string>
#include <type_traits>
#include <utility>

#include "../error.hpp"
#include "dataset.hpp"

namespace descent {

template <std::floating_point Scalar>
class Standardizer {
public:
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

    // μ_i = (1/N) Σ_t x_i,t and σ_i = sqrt((1/N) Σ_t (x_i,t − μ_i)²) for each feature
    // (row) of x, over its N samples (columns). A feature that is constant over
    // the samples gets σ_i = 1, so that apply() maps it to 0 rather than to 0/0.
    // requires: x has at least one column, all finite.
    // throws: argument_error, non_finite_error (nothing is changed then).
    Standardizer& fit(const Eigen::Ref<const Matrix>& x) {
        if (x.cols() == 0) throw argument_error("Standardizer::fit: no samples (x has 0 columns)");
        if (!x.allFinite()) throw non_finite_error("Standardizer::fit: x holds NaN or infinity");
        // Sums in double: in float, Σ_t over 60000 samples loses digits of μ.
        using Accumulator = Eigen::VectorXd;
        const auto n = static_cast<double>(x.cols());
        Accumulator sum = Accumulator::Zero(x.rows());
        Vector low = x.col(0), high = x.col(0);
        for (Eigen::Index t = 0; t < x.cols(); ++t) {
            sum += x.col(t).template cast<double>();
            low = low.cwiseMin(x.col(t));
            high = high.cwiseMax(x.col(t));
        }
        const Accumulator mu = sum / n;
        // Two passes: Σ (x − μ)² does not cancel catastrophically as Σ x² − N μ² would.
        Accumulator squares = Accumulator::Zero(x.rows());
        for (Eigen::Index t = 0; t < x.cols(); ++t)
            squares += (x.col(t).template cast<double>() - mu).cwiseAbs2();
        Vector mean = mu.template cast<Scalar>();
        Vector scale = (squares / n).cwiseSqrt().template cast<Scalar>();
        for (Eigen::Index i = 0; i < x.rows(); ++i) {
            // Tested on the values themselves: a rounded μ would leave a tiny
            // σ and blow the rounding error up to order 1.
            if (low(i) == high(i) || !(scale(i) > Scalar(0))) {
                mean(i) = low(i);
                scale(i) = Scalar(1);
            }
        }
        mean_ = std::move(mean);
        scale_ = std::move(scale);
        return *this;
    }

    // x_i ← (x_i − μ_i) / σ_i for each sample (column) of x, in place.
    // requires: fit() was called; x has as many rows as the data fitted.
    // throws: argument_error, shape_error (x is unchanged then).
    void apply(Eigen::Ref<Matrix> x) const {
        check(x.rows(), "Standardizer::apply", "x has ", " features (rows)");
        x.colwise() -= mean_;
        x.array().colwise() /= scale_.array();
    }
    void apply(Dataset<Scalar>& data) const { apply(data.x); }

    // y_i ← μ_i + σ_i y_i for each sample (column) of y, in place: undoes apply(), to
    // read predictions of standardised targets in their own units.
    // requires: fit() was called; y has as many rows as the data fitted.
    // throws: argument_error, shape_error (y is unchanged then).
    void invert(Eigen::Ref<Matrix> y) const {
        check(y.rows(), "Standardizer::invert", "y has ", " rows");
        y.array().colwise() *= scale_.array();
        y.colwise() += mean_;
    }

    // Bakes the standardisation of the inputs into a trained network's first layer, so
    // that the network takes raw inputs and a saved model needs nothing else:
    //   a(1) = W(1) (x − μ)/σ + b(1) = W' x + b',  W' = W(1) diag(1/σ),  b' = b(1) − W' μ.
    // Call it once, after training on standardised inputs; then feed x unstandardised.
    // Works on any network that lays θ out in parameter blocks (W(1) the first weight
    // block, b(1) the bias block after it), Mlp and the run-time network alike.
    // requires: fit() was called on the inputs; W(1) has as many columns as features fitted.
    // throws: argument_error, shape_error (net is unchanged then).
    template <class Net>
    void fold_into(Net& net) const {
        auto [W, b] = layer_blocks(net, false, "Standardizer::fold_into");
        if (W.cols() != mean_.size())
            throw shape_error("Standardizer::fold_into: the network takes " + std::to_string(W.cols()) +
                              " inputs but the standardizer was fitted on " + std::to_string(mean_.size()) +
                              " features");
        using S = typename std::remove_cvref_t<decltype(W)>::Scalar;
        W.array().rowwise() /= scale_.template cast<S>().transpose().array();
        b -= W * mean_.template cast<S>();
    }

    // Bakes the standardisation of the targets into a trained regression network's last
    // layer, so that it predicts in the targets' own units: trained on ỹ = (y − μ)/σ, the
    // network's output a(L+1) = W(L+1) h(L) + b(L+1) stands for ỹ, and
    //   y = μ + σ ∘ a(L+1) = W' h(L) + b',  W' = diag(σ) W(L+1),  b' = σ ∘ b(L+1) + μ.
    // Only for an identity output (squared error): a sigmoid or a softmax of the
    // rescaled a(L+1) would be another function. Call it once, after training.
    // requires: fit() was called on the targets; W(L+1) has as many rows as targets fitted.
    // throws: argument_error, shape_error (net is unchanged then).
    template <class Net>
    void fold_into_output(Net& net) const {
        auto [W, b] = layer_blocks(net, true, "Standardizer::fold_into_output");
        if (W.rows() != mean_.size())
            throw shape_error("Standardizer::fold_into_output: the network has " + std::to_string(W.rows()) +
                              " outputs but the standardizer was fitted on " + std::to_string(mean_.size()) +
                              " targets");
        using S = typename std::remove_cvref_t<decltype(W)>::Scalar;
        W.array().colwise() *= scale_.template cast<S>().array();
        b = (b.array() * scale_.template cast<S>().array() + mean_.template cast<S>().array()).matrix();
    }

    bool fitted() const { return mean_.size() > 0; }
    const Vector& mean() const { return mean_; }    // μ
    const Vector& scale() const { return scale_; }  // σ, with 1 for constant features

private:
    void check(Eigen::Index rows, const char* where, const char* has, const char* what) const {
        if (!fitted()) throw argument_error(std::string(where) + ": call fit() on the training data first");
        if (rows != mean_.size())
            throw shape_error(std::string(where) + ": " + has + std::to_string(rows) + what +
                              " but the standardizer was fitted on " + std::to_string(mean_.size()));
    }

    // Views of W(k) and b(k) in θ, for the first layer or the last, found through the
    // network's parameter blocks rather than its type.
    // throws: argument_error (not fitted, or blocks that do not pair W(k) with b(k)).
    template <class Net>
    auto layer_blocks(Net& net, bool last, const char* where) const {
        if (!fitted()) throw argument_error(std::string(where) + ": call fit() on the training data first");
        const auto& blocks = net.parameter_blocks();
        std::size_t w = blocks.size();
        for (std::size_t k = 0; k < blocks.size(); ++k)
            if (blocks[k].is_weight && (w == blocks.size() || last)) w = k;
        if (w + 1 >= blocks.size() || blocks[w + 1].is_weight || blocks[w + 1].rows != blocks[w].rows ||
            blocks[w + 1].cols != 1)
            throw argument_error(std::string(where) +
                                 ": the network's parameter blocks do not hold a weight "
                                 "matrix W(k) followed by its bias b(k)");
        auto theta = net.parameters();
        using S = typename std::remove_cvref_t<decltype(theta)>::Scalar;
        using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
        using V = Eigen::Matrix<S, Eigen::Dynamic, 1>;
        return std::pair{Eigen::Map<M>(theta.data() + blocks[w].offset, blocks[w].rows, blocks[w].cols),
                         Eigen::Map<V>(theta.data() + blocks[w + 1].offset, blocks[w + 1].rows)};
    }

    Vector mean_;
    Vector scale_;
};

}  // namespace descent
