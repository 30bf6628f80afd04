#pragma once
// How well a regression fits, from its predictions ŷ and the targets y, both K x N
// (K outputs, one sample per column, as a network returns them):
//
//   const Eigen::MatrixXf predicted = net.forward(test.x);
//   double mse = descent::mean_squared_error(predicted, test.targets);   // (1/(KN)) Σ (ŷ − y)²
//   double r2 = descent::r2_score(predicted, test.targets);              // 1 − SS_res / SS_tot
//
// With several outputs each is scored on its own and the K scores averaged
// (scikit-learn's multioutput="uniform_average").
#include <Eigen/Core>
#include <cmath>
#include <string>

#include "../detail/check_range.hpp"
#include "../error.hpp"

namespace descent {

namespace detail {

// Same shape, at least `least` samples, all finite.
template <class A, class B>
void check_regression(const Eigen::MatrixBase<A>& predicted, const Eigen::MatrixBase<B>& targets,
                      Eigen::Index least, const char* where) {
    if (predicted.rows() != targets.rows() || predicted.cols() != targets.cols())
        throw shape_error(std::string(where) + ": predictions are " + std::to_string(predicted.rows()) +
                          " x " + std::to_string(predicted.cols()) + " but targets " +
                          std::to_string(targets.rows()) + " x " + std::to_string(targets.cols()) +
                          " (outputs x samples)");
    if (targets.rows() == 0 || targets.cols() < least)
        throw argument_error(std::string(where) + ": needs at least " + std::to_string(least) + " sample" +
                             (least == 1 ? "" : "s") + " of at least one output, got " +
                             std::to_string(targets.rows()) + " x " + std::to_string(targets.cols()));
    auto check = [&](const auto& m, const char* what) {
        for (Eigen::Index t = 0; t < m.cols(); ++t)
            for (Eigen::Index k = 0; k < m.rows(); ++k)
                if (!std::isfinite(static_cast<double>(m(k, t))))
                    throw non_finite_error(std::string(where) + ": " + what + " holds " +
                                           number(static_cast<double>(m(k, t))) + " at output " +
                                           std::to_string(k) + " of sample " + std::to_string(t));
    };
    check(predicted.derived(), "predictions");
    check(targets.derived(), "targets");
}

}  // namespace detail

// MSE = (1/(K N)) Σ_k Σ_t (ŷ_kt − y_kt)², the squared error's mean (in y's units squared).
// requires: the same shape, at least one sample; finite values.
// throws: shape_error, argument_error, non_finite_error.
template <class A, class B>
double mean_squared_error(const Eigen::MatrixBase<A>& predicted, const Eigen::MatrixBase<B>& targets) {
    detail::check_regression(predicted, targets, 1, "mean_squared_error");
    return (predicted.template cast<double>() - targets.template cast<double>()).squaredNorm() /
           static_cast<double>(targets.size());
}

// MAE = (1/(K N)) Σ_k Σ_t |ŷ_kt − y_kt|, in y's units; less swayed by a few large errors.
// requires, throws: as mean_squared_error.
template <class A, class B>
double mean_absolute_error(const Eigen::MatrixBase<A>& predicted, const Eigen::MatrixBase<B>& targets) {
    detail::check_regression(predicted, targets, 1, "mean_absolute_error");
    return (predicted.template cast<double>() - targets.template cast<double>()).cwiseAbs().sum() /
           static_cast<double>(targets.size());
}

// The coefficient of determination of each output k,
//   R²_k = 1 − Σ_t (ŷ_kt − y_kt)² / Σ_t (y_kt − ȳ_k)²,
// the share of y_k's variance the predictions explain: 1 is perfect, 0 is no better than
// predicting the mean ȳ_k, and it is negative when worse. A constant target (a zero
// denominator) scores 1 when predicted exactly and 0 otherwise, as scikit-learn does.
// requires: the same shape, at least two samples; finite values.
// throws: shape_error, argument_error, non_finite_error.
template <class A, class B>
Eigen::VectorXd r2_scores(const Eigen::MatrixBase<A>& predicted, const Eigen::MatrixBase<B>& targets) {
    detail::check_regression(predicted, targets, 2, "r2_score");
    const Eigen::MatrixXd y = targets.template cast<double>();
    const Eigen::VectorXd residual = (predicted.template cast<double>() - y).rowwise().squaredNorm();
    const Eigen::VectorXd total = (y.colwise() - y.rowwise().mean()).rowwise().squaredNorm();
    Eigen::VectorXd r2(y.rows());
    for (Eigen::Index k = 0; k < y.rows(); ++k)
        r2(k) = total(k) != 0 ? 1 - residual(k) / total(k) : residual(k) == 0 ? 1.0 : 0.0;
    return r2;
}

// The mean of r2_scores over the K outputs.
template <class A, class B>
double r2_score(const Eigen::MatrixBase<A>& predicted, const Eigen::MatrixBase<B>& targets) {
    return r2_scores(predicted, targets).mean();
}

}  // namespace descent
