#pragma once
// fit's one warning: inputs that look unstandardised. A feature (a row of x) whose variance
// over the samples is in the thousands makes a(1) = W(1) x + b(1) as large, so tanh and the
// sigmoid saturate, ReLU's a(1) swings, and a step size α that suits the other features
// diverges on this one; training still runs, so this is a warning and not an error.
#include <Eigen/Core>
#include <algorithm>
#include <string>

#include "../detail/check_range.hpp"
#include "../detail/message.hpp"

namespace descent {

// A feature whose variance exceeds this is reported (a standard deviation of 100).
inline constexpr double unstandardised_variance = 1e4;

namespace detail {

// The warning for x (one sample per column), or an empty string when no feature's variance
// exceeds unstandardised_variance. It names the feature of the largest variance (counted
// from 0), how many exceed the bound, and what to do. The variances are estimated from at
// most 4096 samples spread evenly over x, so that the check costs fit a few milliseconds
// whatever the size of the training set.
template <class X>
std::string feature_scale_warning(const X& x, const char* where) {
    const Eigen::Index n = std::min<Eigen::Index>(x.cols(), 4096);
    if (n < 2) return {};
    // Sums of x - x(:, 0) (shifted, so that a large mean does not swamp the variance), by
    // whole columns, which lie contiguous in memory.
    const Eigen::ArrayXd shift = x.col(0).template cast<double>().array();
    Eigen::ArrayXd sum = Eigen::ArrayXd::Zero(x.rows()), squares = sum, centred = sum;
    for (Eigen::Index i = 0; i < n; ++i) {
        centred = x.col(i * x.cols() / n).template cast<double>().array() - shift;
        sum += centred;
        squares += centred.square();
    }
    const Eigen::ArrayXd mean = shift + sum / double(n);
    const Eigen::ArrayXd variance = ((squares - sum.square() / double(n)) / double(n - 1)).max(0.0);
    Eigen::Index widest = 0;
    const double largest = variance.maxCoeff(&widest);
    if (!(largest > unstandardised_variance)) return {};
    const auto count = (variance.array() > unstandardised_variance).count();
    return join({where, ": warning: feature ", widest, " of the inputs has variance ", number(largest),
                 " (mean ", number(mean(widest)), ")",
                 count > 1 ? join({" and ", count - 1, " more features have a variance above ",
                                   number(unstandardised_variance)})
                           : std::string(),
                 ": the inputs look unstandardised, which saturates the units and makes α too large for "
                 "those features; data/standardizer.hpp's Standardizer gives every feature mean 0 and "
                 "variance 1 (and folds into the model on save). Set FitOptions::on_warning to take this "
                 "message yourself."});
}

}  // namespace detail
}  // namespace descent
