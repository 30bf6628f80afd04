#pragma once
// The Layer concept: what Mlp needs of each entry in its layer list.
//
// A layer does not own its parameters: the network binds it to a slice of
// one contiguous buffer, so that optimizers, regularizers, the gradient
// checker and serialisation are each one loop over one span. forward(),
// backward() and output() return views (Eigen::Map) of the layer's own
// buffers, valid until its next call: the network's chain holds on to them.
#include <Eigen/Core>
#include <concepts>


#include "../detail/random.hpp"

namespace descent {

template <class L>
concept Layer = std::floating_point<typename L::scalar_type> &&
    requires(L layer, const L& c, typename L::scalar_type* p, Engine& engine,
             const Eigen::Ref<const Eigen::Matrix<typename L::scalar_type, Eigen::Dynamic,
                                                  Eigen::Dynamic>>& m) {
        { c.inputs() } -> std::same_as<Eigen::Index>;
        { c.outputs() } -> std::same_as<Eigen::Index>;
        { c.parameter_count() } -> std::same_as<Eigen::Index>;
        layer.bind(p, p);
        layer.initialize(engine);
        layer.forward(m);
        layer.backward(m, m, true);
        c.output();
    };

}  // namespace descent

namespace descent::detail {

// Names the first member a would-be layer lacks, at the point of composition,
// instead of a bare "constraints not satisfied". Used by Mlp.
template <class L>
constexpr bool diagnose_layer() {
    static_assert(requires { typename L::scalar_type; },
                  "descent: this type in the layer list is not a Layer: it needs `using scalar_type = float;` (or double)");
    if constexpr (requires { typename L::scalar_type; }) {
        using S = typename L::scalar_type;
        using Ref = const Eigen::Ref<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>&;
        static_assert(requires(const L& c) { { c.inputs() } -> std::same_as<Eigen::Index>; },
                      "descent: this type in the layer list is not a Layer: it needs `Eigen::Index inputs() const`");
        static_assert(requires(const L& c) { { c.outputs() } -> std::same_as<Eigen::Index>; },
                      "descent: this type in the layer list is not a Layer: it needs `Eigen::Index outputs() const`");
        static_assert(requires(const L& c) { { c.parameter_count() } -> std::same_as<Eigen::Index>; },
                      "descent: this type in the layer list is not a Layer: it needs `Eigen::Index parameter_count() const`");
        static_assert(requires(L& l, S* p) { l.bind(p, p); },
                      "descent: this type in the layer list is not a Layer: it needs `void bind(Scalar* parameters, Scalar* gradients)`");
        static_assert(requires(L& l, Engine& e) { l.initialize(e); },
                      "descent: this type in the layer list is not a Layer: it needs `void initialize(Engine&)`");
        static_assert(requires(L& l, Ref m) { l.forward(m); },
                      "descent: this type in the layer list is not a Layer: it needs `forward(h_prev)`");
        static_assert(requires(L& l, Ref m) { l.backward(m, m, true); },
                      "descent: this type in the layer list is not a Layer: it needs `backward(h_prev, grad_h, propagate)`");
        static_assert(requires(const L& c) { c.output(); },
                      "descent: this type in the layer list is not a Layer: it needs `output() const`");
    }
    return Layer<L>;
}

}  // namespace descent::detail
