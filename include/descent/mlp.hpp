#pragma once
// A multilayer perceptron whose layers are a C++ type: a flat, compile-time list of layers, then
// optionally its head (losses/head.hpp), softmax + cross-entropy when none is named:
//
//   Mlp<Dense<Relu>, Dense<Relu>, Dense<Identity>> net({784, 256, 128, 10}, seed);      // softmax
//   Mlp<Dense<Tanh>, Dense<Identity>, SigmoidCrossEntropy<>> binary({30, 16, 1}, seed);  // one sigmoid
//   Mlp<Dense<Relu, double>, Dense<Identity, double>, SquaredError<>> regression({10, 64, 1});
//
// The head is told apart from the layers by the Head concept, so the list stays flat (no nesting,
// no second template argument list) and every existing Mlp<...> keeps its meaning. The head's
// scalar type follows the layers' (SquaredError<> is SquaredError<float> rebound to double above).
// The output layer is always Dense<Identity>: the head applies its own f to a(L+1).
//
// All of θ = {W(1), b(1), ..., W(L+1), b(L+1)} lives in one contiguous buffer, and ∇θ in another
// of the same layout; each layer views its own slice. Everything but the layer list itself (θ, the
// forward and backward chain, dropout, the head, prediction) is detail::NetworkCore, shared with
// the run-time Network (network.hpp), so the two give the same numbers bit for bit.
#include <Eigen/Core>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "activations/identity.hpp"
#include "architecture.hpp"
#include "detail/message.hpp"
#include "network_core.hpp"
#include "error.hpp"
#include "layers/layer.hpp"
#include "losses/head.hpp"
#include "losses/softmax_cross_entropy.hpp"

namespace descent {

namespace detail {

// A layer that can take its step of gradient descent during backpropagation (Dense::propagate, descend).
template <class L>
concept descends = requires(
    L& layer,
    const Eigen::Ref<const Eigen::Matrix<typename L::scalar_type, Eigen::Dynamic, Eigen::Dynamic>>& m,
    typename L::scalar_type alpha) {
    layer.propagate(m, true);
    layer.descend(m, alpha);
};

template <class... Layers>
struct first_layer {
    using scalar_type = float;  // no layer at all: the static_assert below says so
};
template <class First, class... Rest>
struct first_layer<First, Rest...> {
    using scalar_type = typename First::scalar_type;
};

// Mlp's layers: a tuple, visited by index by the chain NetworkCore runs for both network kinds.
// Layers are checked here, by static_assert rather than in a template head, so that a type that
// is not a Layer is reported with the member it lacks, before anything else uses it.
template <class... Layers>
struct LayerTuple {
    static_assert(sizeof...(Layers) >= 1, "descent::Mlp needs at least one layer");
    static_assert((detail::diagnose_layer<Layers>() && ...));
    using scalar_type = typename first_layer<Layers...>::scalar_type;
    static_assert((std::is_same_v<typename Layers::scalar_type, scalar_type> && ...),
                  "descent::Mlp: every layer must have the same scalar type (all float or all double)");
    static_assert(std::is_same_v<
                      typename std::tuple_element_t<sizeof...(Layers) - 1, std::tuple<Layers...>>::activation,
                      Identity>,
                  "descent::Mlp: the output layer must be Dense<Identity, ...>, because the head applies "
                  "its own f (softmax, sigmoid, identity) and takes the gradient at a(L+1)");

    static constexpr const char* object = "Mlp";
    static constexpr bool descends = (detail::descends<Layers> && ...);

    std::tuple<Layers...> layers;

    static constexpr std::size_t size() { return sizeof...(Layers); }
    // f(layer k): k is a run-time index, so that the chain is one loop for both kinds of network.
    template <class F>
    decltype(auto) visit(std::size_t k, F&& f) {
        return visit_from<0>(*this, k, f);
    }
    template <class F>
    decltype(auto) visit(std::size_t k, F&& f) const {
        return visit_from<0>(*this, k, f);
    }
    template <class F>
    void for_each(F&& f) {
        std::apply([&](auto&... layer) { (f(layer), ...); }, layers);
    }
    template <class F>
    void for_each(F&& f) const {
        std::apply([&](const auto&... layer) { (f(layer), ...); }, layers);
    }

private:
    template <std::size_t K, class Self, class F>
    static decltype(auto) visit_from(Self& self, std::size_t k, F& f) {
        if constexpr (K + 1 == sizeof...(Layers)) {
            return f(std::get<K>(self.layers));
        } else {
            if (k == K) return f(std::get<K>(self.layers));
            return visit_from<K + 1>(self, k, f);
        }
    }
};

template <class HeadT, class... Layers>
using MlpCore =
    NetworkCore<LayerTuple<Layers...>,
                StaticHead<typename HeadT::template rebind<typename first_layer<Layers...>::scalar_type>>>;

// Everything of Mlp but its name: the layers and the head split apart.
template <class HeadT, class... Layers>
class MlpBase : public MlpCore<HeadT, Layers...> {
    using Core = MlpCore<HeadT, Layers...>;

public:
    using typename Core::Matrix;
    using typename Core::Scalar;
    using typename Core::scalar_type;
    using typename Core::Vector;
    using head_type = typename HeadT::template rebind<Scalar>;
    static constexpr std::size_t depth = sizeof...(Layers);  // L + 1 layers

    // sizes = {H_0, H_1, ..., H_(L+1)}: the input width, each hidden width, the output width.
    // throws: shape_error when sizes does not have one entry more than there are layers;
    //         argument_error for a size below 1.
    explicit MlpBase(std::span<const Eigen::Index> sizes, std::uint64_t seed = 0)
        : Core(make_layers(sizes, std::index_sequence_for<Layers...>{}), {}, seed) {}
    MlpBase(std::initializer_list<Eigen::Index> sizes, std::uint64_t seed = 0)
        : MlpBase(std::span<const Eigen::Index>(sizes.begin(), sizes.size()), seed) {}

    // From layers built by hand. throws: shape_error when a layer's inputs differ from the outputs
    // of the layer before it, naming both.
    explicit MlpBase(Layers... layers)
        : Core(LayerTuple<Layers...>{std::tuple<Layers...>(std::move(layers)...)}, {}, 0) {}

    // From an architecture (a model file's, another network's): its sizes and dropout rates, which
    // must describe this type: the same depth, layer kinds, activations, head and scalar.
    // throws: argument_error (another kind, activation, head or scalar; a bad rate), shape_error
    //         (another depth; sizes that do not chain).
    explicit MlpBase(const Architecture& architecture, std::uint64_t seed = 0)
        : MlpBase(sizes_of(architecture), seed) {
        for (std::size_t k = 1; k < depth; ++k) this->set_dropout(k, architecture.layers[k - 1].dropout);
    }

    template <std::size_t K>
    auto& layer() {
        this->forget_bounds();  // W(K), b(K) are writable through it
        return std::get<K>(this->layers_.layers);
    }
    template <std::size_t K>
    const auto& layer() const {
        return std::get<K>(this->layers_.layers);
    }

private:
    template <std::size_t... K>
    static LayerTuple<Layers...> make_layers(std::span<const Eigen::Index> sizes, std::index_sequence<K...>) {
        if (sizes.size() != depth + 1)
            throw shape_error(join({"Mlp: ", depth, " layers need ", depth + 1,
                                    " sizes (H_0, ..., H_(L+1)), got ", sizes.size()}));
        // Checked here rather than left to the layers, whose message cannot say which H_k it was.
        for (std::size_t k = 0; k < sizes.size(); ++k)
            if (sizes[k] < 1)
                throw argument_error(join({"Mlp: size H_", k, " is ", sizes[k], ", expected at least 1"}));
        return {std::tuple<Layers...>(Layers(sizes[K], sizes[K + 1])...)};
    }

    // {H_0, ..., H_(L+1)} of an architecture that describes this type; every field is checked.
    static std::vector<Eigen::Index> sizes_of(const Architecture& a) {
        const std::string scalar = std::is_same_v<Scalar, float> ? "float" : "double";
        if (a.layers.size() != depth)
            throw shape_error("Mlp: the architecture has " + std::to_string(a.layers.size()) +
                              " layers, this Mlp has " + std::to_string(depth));
        if (a.head != head_type::name)
            throw argument_error("Mlp: the architecture's head is " + a.head + ", this Mlp's is " +
                                 head_type::name);
        if (a.scalar != scalar)
            throw argument_error("Mlp: the architecture is of " + a.scalar + ", this Mlp of " + scalar +
                                 " (use Mlp::rebind<" + a.scalar + ">)");
        const std::vector<std::pair<std::string, std::string>> mine{
            {Layers::kind, Layers::activation::name}...};
        std::vector<Eigen::Index> sizes{a.layers.front().inputs};
        for (std::size_t k = 0; k < depth; ++k) {
            const auto& spec = a.layers[k];
            if (spec.kind != mine[k].first || spec.activation != mine[k].second)
                throw argument_error("Mlp: layer " + std::to_string(k + 1) + " of the architecture is " +
                                     spec.kind + " " + spec.activation + ", this Mlp's is " + mine[k].first +
                                     " " + mine[k].second);
            if (k > 0 && spec.inputs != a.layers[k - 1].outputs)
                throw shape_error("Mlp: layer " + std::to_string(k + 1) + " of the architecture takes " +
                                  std::to_string(spec.inputs) + " inputs but layer " + std::to_string(k) +
                                  " gives " + std::to_string(a.layers[k - 1].outputs) + " outputs");
            const bool hidden = k + 1 < depth;
            if (!(spec.dropout >= 0 && spec.dropout < 1) || (!hidden && spec.dropout != 0))
                throw argument_error(
                    "Mlp: layer " + std::to_string(k + 1) + " of the architecture has dropout " +
                    detail::number(spec.dropout) +
                    (hidden ? ", expected a rate in [0, 1)" : ", expected 0 on the output layer"));
            sizes.push_back(spec.outputs);
        }
        return sizes;
    }
};

template <class T>
concept is_head = Head<T>;

template <class... Ts>
struct last_type {
    using type = void;
};
template <class T, class... Ts>
struct last_type<T, Ts...> {
    using type = typename std::tuple_element_t<sizeof...(Ts), std::tuple<T, Ts...>>;
};

template <class HeadT, class Tuple, class Indices>
struct mlp_base_of;
template <class HeadT, class Tuple, std::size_t... I>
struct mlp_base_of<HeadT, Tuple, std::index_sequence<I...>> {
    using type = MlpBase<HeadT, std::tuple_element_t<I, Tuple>...>;
};

// Mlp<Layers...> or Mlp<Layers..., Head>: the head is the last type when it is one.
template <class... Ts>
struct mlp_split {
    using last = typename last_type<Ts...>::type;
    static constexpr bool has_head = is_head<last>;
    using type = typename std::conditional_t<
        has_head,
        mlp_base_of<last, std::tuple<Ts...>, std::make_index_sequence<sizeof...(Ts) - (has_head ? 1 : 0)>>,
        mlp_base_of<SoftmaxCrossEntropy<>, std::tuple<Ts...>, std::make_index_sequence<sizeof...(Ts)>>>::type;
};

}  // namespace detail

// The interface (shared with Network): forward, predict, predict_proba, predict_values, accuracy,
// loss, compute_gradient, descend, count_correct, check_targets, parameters, gradient,
// parameter_blocks, architecture, inputs, outputs, classes, sizes, initialize, the dropout
// settings (network_core.hpp); here also layer<K>(), depth, rebind and cast.
template <class... Ts>
class Mlp : public detail::mlp_split<Ts...>::type {
    using Base = typename detail::mlp_split<Ts...>::type;

public:
    using Base::Base;

    // The same network over another scalar type.
    template <std::floating_point T>
    using rebind = Mlp<typename Ts::template rebind<T>...>;

    // A copy over another scalar type: θ converted, the same dropout settings and engine.
    template <std::floating_point T>
    rebind<T> cast() const {
        const auto s = this->sizes();
        rebind<T> out{std::span<const Eigen::Index>(s)};
        out.parameters() = this->parameters().template cast<T>();
        this->copy_dropout_to(out);
        return out;
    }
};

}  // namespace descent
