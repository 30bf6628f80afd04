#pragma once
// Standardisation: each feature i centred and scaled, x_i ← (x_i − μ_i) / σ_i,
// so that every input of the first layer has mean 0 and variance 1 and no
// feature dominates a(1) = W(1) x + b(1) by its units alone.
//
// μ and σ are fitted on the training part only and then applied, unchanged, to
// validation and test data: fitting them on held-out data would leak it into
// the model.
//
//   descent::Standardizer<float> standardize;
//   standardize.fit(train.x);
//   standardize.apply(train);  standardize.apply(validation);  standardize.apply(test);
#include <Eigen/Core>
#include <cmath>
#include <concepts>
#include <string>
#include <type_traits>

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
        if (!fitted()) throw argument_error("Standardizer::apply: call fit() on the training data first");
        if (x.rows() != mean_.size())
            throw shape_error("Standardizer::apply: x has " + std::to_string(x.rows()) +
                              " features (rows) but the standardizer was fitted on " +
                              std::to_string(mean_.size()));
        x.colwise() -= mean_;
        x.array().colwise() /= scale_.array();
    }
    void apply(Dataset<Scalar>& data) const { apply(data.x); }

    // Bakes the standardisation into a trained network's first layer, so that the
    // network takes raw inputs and a saved model needs nothing else:
    //   a(1) = W(1) (x − μ)/σ + b(1) = W' x + b',  W' = W(1) diag(1/σ),  b' = b(1) − W' μ.
    // Call it once, after training on standardised data; then feed x unstandardised.
    // requires: fit() was called; net.inputs() equals the features fitted.
    // throws: argument_error, shape_error (net is unchanged then).
    template <class Net>
    void fold_into(Net& net) const {
        if (!fitted()) throw argument_error("Standardizer::fold_into: call fit() on the training data first");
        if (net.inputs() != mean_.size())
            throw shape_error("Standardizer::fold_into: the network takes " + std::to_string(net.inputs()) +
                              " inputs but the standardizer was fitted on " + std::to_string(mean_.size()) +
                              " features");
        auto& first = net.template layer<0>();
        auto W = first.W();
        using S = typename std::remove_cvref_t<decltype(W)>::Scalar;
        W.array().rowwise() /= scale_.template cast<S>().transpose().array();
        first.b() -= W * mean_.template cast<S>();
    }

    bool fitted() const { return mean_.size() > 0; }
    const Vector& mean() const { return mean_; }    // μ
    const Vector& scale() const { return scale_; }  // σ, with 1 for constant features

private:
    Vector mean_;
    Vector scale_;
};

}  // namespace descent
