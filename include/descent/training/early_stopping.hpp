#pragma once
// Early stopping on the validation loss: the validation loss estimates the
// generalisation error, which falls and then rises as the network starts to fit
// the training set's noise. Training stops once the validation loss has not
// improved for `patience` epochs, and θ goes back to the best epoch's.
#include <limits>
#include <optional>
#include <string>

#include "../detail/check_range.hpp"
#include "../error.hpp"

namespace descent {

// Stop when the validation loss has not fallen below its best by more than
// min_delta for `patience` epochs in a row, and return with the best epoch's θ.
struct EarlyStopping {
    int patience = 5;      // >= 1
    double min_delta = 0;  // >= 0
};

// The epoch with the lowest validation loss so far, with a copy of θ there when
// early stopping will need it back. fit uses one; a hand-written loop can too.
template <class Vector>
class BestEpoch {
public:
    // throws: argument_error when rule has patience < 1 or min_delta < 0 or not finite.
    explicit BestEpoch(std::optional<EarlyStopping> rule = std::nullopt) : rule_(rule) {
        if (rule_) {
            detail::require_at_least(rule_->patience, 1, "EarlyStopping", "patience");
            detail::require_non_negative(rule_->min_delta, "EarlyStopping", "min_delta");
        }
    }

    // Records the validation loss after `epoch` (1-based, increasing) and θ then.
    // An epoch is the new best when its loss is below the best so far by more than
    // min_delta (0 without early stopping); a NaN loss never is.
    // returns: true when early stopping says to stop now.
    template <class Theta>
    bool record(int epoch, double validation_loss, const Theta& theta) {
        const double min_delta = rule_ ? rule_->min_delta : 0.0;
        if (validation_loss < loss_ - min_delta) {
            loss_ = validation_loss;
            epoch_ = epoch;
            if (rule_) theta_ = theta;  // allocates once: θ keeps its size
        }
        return rule_ && epoch - epoch_ >= rule_->patience;
    }

    // 0 before any epoch was best.
    int epoch() const { return epoch_; }
    double loss() const { return loss_; }
    // θ at the best epoch; empty without early stopping or before any epoch was best.
    const Vector& parameters() const { return theta_; }

    // θ ← θ at the best epoch, when early stopping kept it; otherwise leaves θ alone.
    // returns: whether θ was restored.
    // throws: shape_error when θ is not of the recorded θ's size (θ is unchanged then).
    template <class Theta>
    bool restore(Theta&& theta) const {
        if (!rule_ || epoch_ == 0) return false;
        if (theta.size() != theta_.size())
            throw shape_error("BestEpoch::restore: θ has " + std::to_string(theta.size()) +
                              " parameters, the best epoch's had " + std::to_string(theta_.size()));
        theta = theta_;
        return true;
    }

private:
    std::optional<EarlyStopping> rule_;
    double loss_ = std::numeric_limits<double>::infinity();
    int epoch_ = 0;
    Vector theta_;
};

}  // namespace descent
