#pragma once
// The Layer concept: what Mlp needs of each entry in its layer list.
//
// A layer does not own its parameters: the network binds it to a slice of
// one contiguous buffer, so that optimizers, regularizers, the gradient
// checker and serialisation are each one loop over one span.
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
