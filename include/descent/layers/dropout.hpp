#pragma once
// Inverted dropout on the output h(k) of a hidden layer, while training only:
//   h̃(k) = h(k) ⊙ m / (1 - p),   m_ij ~ Bernoulli(1 - p) drawn afresh for every pass,
// so that E[h̃(k)] = h(k): the next layer sees, on average, what it sees at prediction time,
// when dropout is off and h̃(k) = h(k) with no rescaling. Backpropagation goes through the
// same mask: ∇h(k) = ∇h̃(k) ⊙ m / (1 - p), and layer k+1 takes ∇W(k+1) = ∇a(k+1) h̃(k)ᵀ.
//
// The network owns one Dropout per hidden layer and the engine the masks come from
// (network_core.hpp); a rate of 0 is no dropout, and costs nothing.
#include <Eigen/Core>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <string>

#include "../detail/check_range.hpp"
#include "../detail/random.hpp"
#include "../detail/workspace.hpp"
#include "../error.hpp"

namespace descent {

template <std::floating_point Scalar>
class Dropout {
public:
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

    // requires: 0 <= rate < 1 (a rate of 1 would drop every unit). throws: argument_error.
    explicit Dropout(double rate = 0) { set_rate(rate); }

    void set_rate(double rate) {
        if (!(rate >= 0 && rate < 1))
            throw argument_error("Dropout: the rate must be in [0, 1), got " + detail::number(rate));
        rate_ = rate;
        // A unit is kept when a 32-bit uniform u satisfies u >= threshold: P = 1 - p to 2^-32.
        threshold_ = static_cast<std::uint64_t>(std::ldexp(rate, 32));
        scale_ = static_cast<Scalar>(1.0 / (1.0 - rate));
    }
    double rate() const { return rate_; }

    // h̃ = h ⊙ m / (1 - p) with a new mask drawn from `engine`: one draw of 64 bits gives two units.
    Eigen::Map<const Matrix> apply(const Eigen::Ref<const Matrix>& h, Engine& engine) {
        auto mask = mask_.shape(h.rows(), h.cols());
        Scalar* m = mask.data();
        const Eigen::Index n = mask.size();
        for (Eigen::Index i = 0; i < n; i += 2) {
            const std::uint64_t u = engine();
            m[i] = (u & 0xFFFFFFFFu) >= threshold_ ? scale_ : Scalar(0);
            if (i + 1 < n) m[i + 1] = (u >> 32) >= threshold_ ? scale_ : Scalar(0);
        }
        output_.shape(h.rows(), h.cols()).array() = h.array() * mask.array();
        return output_.cview();
    }

    // h̃ of the last apply().
    Eigen::Map<const Matrix> output() const { return output_.cview(); }
    // m / (1 - p) of the last apply(): each entry 0 or 1 / (1 - p).
    Eigen::Map<const Matrix> mask() const { return mask_.cview(); }

    // ∇h = ∇h̃ ⊙ m / (1 - p), through the mask of the last apply().
    Eigen::Map<const Matrix> backward(const Eigen::Ref<const Matrix>& grad_output) {
        grad_.shape(grad_output.rows(), grad_output.cols()).array() =
            grad_output.array() * mask_.view().array();
        return grad_.cview();
    }

private:
    double rate_ = 0;
    std::uint64_t threshold_ = 0;
    Scalar scale_ = 1;
    detail::Workspace<Scalar> mask_, output_, grad_;
};

}  // namespace descent
