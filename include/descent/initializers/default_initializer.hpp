#pragma once
// Which initializer a layer uses when none is named: He for ReLU, Glorot otherwise.
#include "../activations/relu.hpp"
#include "glorot_uniform.hpp"
#include "he_uniform.hpp"

namespace descent {

template <class Act>
struct default_initializer {
    using type = GlorotUniform;
};
template <>
struct default_initializer<Relu> {
    using type = HeUniform;
};
template <class Act>
using default_initializer_t = typename default_initializer<Act>::type;

}  // namespace descent
