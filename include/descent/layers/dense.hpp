#pragma once
// A fully connected layer k: a(k) = W(k) h(k-1) + b(k), h(k) = g(a(k)).
//
// One sample per column: h(k-1) is H_(k-1) x B, a(k) and h(k) are H_k x B.
#include <Eigen/Core>
#include <concepts>
#include <string>
#include <type_traits>

#include "../activations/activation.hpp"
#include "../activations/identity.hpp"
#include "../detail/gemm.hpp"
#include "../detail/layer_call.hpp"
#include "../detail/message.hpp"
#include "../detail/workspace.hpp"
#include "../error.hpp"
#include "../initializers/default_initializer.hpp"
#include "../initializers/initializer.hpp"

namespace descent {

template <Activation Act, std::floating_point Scalar = float, Initializer Init = default_initializer_t<Act>>
class Dense {
public:
    using scalar_type = Scalar;
    using activation = Act;
    using initializer = Init;
    // What model files and summaries call this layer (architecture.hpp).
    static constexpr const char* kind = "dense";
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
    // The same layer over another scalar type (the gradient checker works in double).
    template <std::floating_point T>
    using rebind = Dense<Act, T, Init>;

    // requires: inputs > 0, outputs > 0; throws argument_error otherwise.
    Dense(Eigen::Index inputs, Eigen::Index outputs) : inputs_(inputs), outputs_(outputs) {
        if (inputs <= 0 || outputs <= 0)
            throw argument_error(detail::join(
                {"Dense layer needs positive sizes, got ", inputs, " inputs and ", outputs, " outputs"}));
    }

    Eigen::Index inputs() const { return inputs_; }
    Eigen::Index outputs() const { return outputs_; }
    // W(k) then b(k), in this order in the network's buffer.
    Eigen::Index parameter_count() const { return outputs_ * inputs_ + outputs_; }

    // Points the layer at its slice of the network's parameter and gradient buffers.
    void bind(Scalar* parameters, Scalar* gradients) {
        theta_ = parameters;
        grad_ = gradients;
    }

    Eigen::Map<Matrix> W() { return {theta_, outputs_, inputs_}; }
    Eigen::Map<const Matrix> W() const { return {theta_, outputs_, inputs_}; }
    Eigen::Map<Vector> b() { return {theta_ + outputs_ * inputs_, outputs_}; }
    Eigen::Map<const Vector> b() const { return {theta_ + outputs_ * inputs_, outputs_}; }
    Eigen::Map<const Matrix> grad_W() const { return {grad_, outputs_, inputs_}; }
    Eigen::Map<const Vector> grad_b() const { return {grad_ + outputs_ * inputs_, outputs_}; }

    // Biases 0; weights from the initializer, drawn from the caller's engine.
    void initialize(Engine& engine) {
        Init::fill(W(), engine);
        b().setZero();
    }

    // h(k) = g(W(k) h(k-1) + b(k)) for a batch h(k-1) of H_(k-1) x B.
    DESCENT_LAYER_CALL Eigen::Map<const Matrix> forward(const Eigen::Ref<const Matrix>& h_prev) {
        auto a = a_.shape(outputs_, h_prev.cols());
        a.colwise() = b();  // then += W(k) h(k-1): one pass over a(k) fewer than adding b(k) after
        products_.multiply(a, W(), h_prev, Scalar(1), true);
        if constexpr (!is_identity) h_.shape(outputs_, h_prev.cols()).array() = Act::value(a.array());
        return output();
    }

    // h(k) of the last forward pass (a(k) itself for the identity).
    Eigen::Map<const Matrix> output() const {
        if constexpr (is_identity)
            return a_.cview();
        else
            return h_.cview();
    }

    // Given ∇h(k) l (H_k x B), of the same batch as the last forward pass:
    //   ∇a(k) = ∇h(k) ⊙ g'(a(k))
    //   ∇W(k) = ∇a(k) h(k-1)ᵀ,  ∇b(k) = Σ_batch ∇a(k)
    //   ∇h(k-1) = W(k)ᵀ ∇a(k), only when propagate (layer 1 has nobody to pass it to).
    // Returns ∇h(k-1); meaningless when !propagate.
    DESCENT_LAYER_CALL Eigen::Map<const Matrix> backward(const Eigen::Ref<const Matrix>& h_prev,
                                                         const Eigen::Ref<const Matrix>& grad_h,
                                                         bool propagate) {
        const auto grad_a = pass_down(grad_h, propagate);
        products_.multiply(Eigen::Map<Matrix>(grad_, outputs_, inputs_), grad_a, h_prev.transpose(),
                           Scalar(1), false);
        Eigen::Map<Vector>(grad_ + outputs_ * inputs_, outputs_).noalias() = grad_a.rowwise().sum();
        return grad_input_.cview();
    }

    // A step of gradient descent on this layer (Sgd without regularization), in two passes so
    // that a guard can look at every layer's ∇a(k) before any W(k) changes:
    //   propagate(): ∇a(k) = ∇h(k) ⊙ g'(a(k)), kept, and ∇h(k-1) = W(k)ᵀ ∇a(k) (when propagate);
    //   descend():   W(k) ← W(k) - α ∇a(k) h(k-1)ᵀ,  b(k) ← b(k) - α Σ_batch ∇a(k), with that ∇a(k).
    // ∇W(k) is never stored: the product accumulates straight into W(k), which saves writing
    // ∇W(k) and reading it back (a third of the memory traffic of a step at batch 1). The
    // gradient buffer is left as it was. ∇h(k) must stay in place until descend().
    DESCENT_LAYER_CALL Eigen::Map<const Matrix> propagate(const Eigen::Ref<const Matrix>& grad_h,
                                                          bool propagate) {
        const auto grad_a = pass_down(grad_h, propagate);
        kept_ = grad_a.data();
        kept_cols_ = grad_a.cols();
        return grad_input_.cview();
    }
    // ∇a(k) of the last propagate().
    Eigen::Map<const Matrix> kept_gradient() const { return {kept_, outputs_, kept_cols_}; }
    DESCENT_LAYER_CALL void descend(const Eigen::Ref<const Matrix>& h_prev, Scalar alpha) {
        const auto grad_a = kept_gradient();
        products_.multiply(W(), grad_a, h_prev.transpose(), -alpha, true);
        b().noalias() -= alpha * grad_a.rowwise().sum();
    }

private:
    static constexpr bool is_identity = std::is_same_v<Act, Identity>;
    using GradientView = Eigen::Map<const Matrix, 0, Eigen::OuterStride<>>;

    // What backward() and propagate() share, compiled once: ∇a(k) from ∇h(k) (∇h(k) itself for
    // the identity), then ∇h(k-1) = W(k)ᵀ ∇a(k) into grad_input_ when propagate, before anything
    // may change W(k). Returns ∇a(k).
    DESCENT_LAYER_CALL GradientView pass_down(const Eigen::Ref<const Matrix>& grad_h, bool propagate) {
        const Eigen::Index batch = grad_h.cols();
        const GradientView grad_a = [&] {
            if constexpr (is_identity) {  // g' = 1: ∇a(k) = ∇h(k), no copy
                return GradientView(grad_h.data(), outputs_, batch,
                                    Eigen::OuterStride<>(grad_h.outerStride()));
            } else {
                auto computed = grad_a_.shape(outputs_, batch);
                computed.array() = grad_h.array() * Act::derivative(a_.view().array(), h_.view().array());
                return GradientView(computed.data(), outputs_, batch, Eigen::OuterStride<>(outputs_));
            }
        }();
        if (propagate)
            products_.multiply(grad_input_.shape(inputs_, batch), W().transpose(), grad_a, Scalar(1), false);
        return grad_a;
    }

    Eigen::Index inputs_;
    Eigen::Index outputs_;
    Scalar* theta_ = nullptr;
    Scalar* grad_ = nullptr;
    detail::Workspace<Scalar> a_, h_, grad_a_, grad_input_;
    detail::Products<Scalar> products_;  // the buffers of its matrix products
    const Scalar* kept_ = nullptr;       // ∇a(k) of the last propagate()
    Eigen::Index kept_cols_ = 0;
};

}  // namespace descent
