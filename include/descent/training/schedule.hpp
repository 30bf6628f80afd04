#pragma once
// Learning-rate schedules: α as a function of where training is. fit asks the
// schedule for α before every step (FitOptions::schedule) and hands it to the
// optimizer with set_learning_rate, so any schedule composes with any optimizer.
//
// A schedule is called as schedule(epoch, t):
//   epoch  the number of epochs completed in this run of fit (0 during the first),
//   t      the number of updates (optimizer steps) made in this run of fit, before
//          this one (0 for the first step, counted across epochs).
// A run resumed from a checkpoint counts both from the run's start, not the resume's.
// Any callable double(int, std::int64_t) is a schedule; the three below are the course's.
#include <cmath>
#include <concepts>
#include <cstdint>

#include "../detail/check_range.hpp"

namespace descent {

template <class S>
concept LearningRateSchedule = requires(const S& schedule, int epoch, std::int64_t t) {
    { schedule(epoch, t) } -> std::convertible_to<double>;
};

// α_t = α.
class ConstantRate {
public:
    // requires: alpha > 0 and finite; throws argument_error otherwise.
    explicit ConstantRate(double alpha) : alpha_(alpha) {
        detail::require_positive(alpha, "ConstantRate", "alpha");
    }
    double operator()(int /*epoch*/, std::int64_t /*t*/) const { return alpha_; }

private:
    double alpha_;
};

// α_epoch = α γ^floor(epoch / every): α shrinks by γ every `every` epochs.
class StepDecay {
public:
    // requires: alpha > 0 and finite, 0 < gamma <= 1, every >= 1; throws argument_error otherwise.
    StepDecay(double alpha, double gamma, int every) : alpha_(alpha), gamma_(gamma), every_(every) {
        detail::require_positive(alpha, "StepDecay", "alpha");
        if (!(gamma > 0 && gamma <= 1)) detail::out_of_range("StepDecay", "gamma", "in (0, 1]", gamma);
        detail::require_at_least(every, 1, "StepDecay", "every");
    }
    double operator()(int epoch, std::int64_t /*t*/) const {
        return alpha_ * std::pow(gamma_, static_cast<double>(epoch / every_));
    }

private:
    double alpha_;
    double gamma_;
    int every_;
};

// α_t = α / (1 + β t), the course's decreasing learning rate: Σ_t α_t = ∞ and
// Σ_t α_t² < ∞, as stochastic gradient descent's convergence asks.
class InverseTimeDecay {
public:
    // requires: alpha > 0 and finite, beta >= 0 and finite; throws argument_error otherwise.
    InverseTimeDecay(double alpha, double beta) : alpha_(alpha), beta_(beta) {
        detail::require_positive(alpha, "InverseTimeDecay", "alpha");
        detail::require_non_negative(beta, "InverseTimeDecay", "beta");
    }
    double operator()(int /*epoch*/, std::int64_t t) const {
        return alpha_ / (1 + beta_ * static_cast<double>(t));
    }

private:
    double alpha_;
    double beta_;
};

}  // namespace descent
