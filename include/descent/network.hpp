#pragma once
// A multilayer perceptron chosen at run time: any depth, each layer's width and activation, each
// hidden layer's dropout rate and the head read from code, a text spec (network_spec.hpp) or an
// Architecture (a model file's):
//
//   descent::Network<float> net("784-512:relu:dropout=0.2-256:relu-10", seed);
//   descent::Network<double> binary(30, {{16, "tanh"}}, 1, "sigmoid_cross_entropy", seed);
//   descent::Network<float> loaded(architecture);
//
// The interface is Mlp's (network_core.hpp), and so are the numbers: the layers are the
// same Dense<Act, Scalar> types, held in a std::variant, and the chain, dropout and heads are the
// same code, so the same architecture, seed and data give θ equal to Mlp's bit for bit. What a
// run-time choice costs is one dispatch per layer and pass, against a matrix product each.
#include <Eigen/Core>
#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "activations/identity.hpp"
#include "activations/relu.hpp"
#include "activations/sigmoid.hpp"
#include "activations/tanh.hpp"
#include "architecture.hpp"
#include "network_core.hpp"
#include "error.hpp"
#include "layers/dense.hpp"
#include "losses/sigmoid_cross_entropy.hpp"
#include "losses/softmax_cross_entropy.hpp"
#include "losses/squared_error.hpp"
#include "network_spec.hpp"

namespace descent {

namespace detail {

// Network's layers: one Dense per layer, its activation chosen at run time.
template <std::floating_point Scalar>
struct LayerVector {
    using scalar_type = Scalar;
    using Layer = std::variant<Dense<Identity, Scalar>, Dense<Sigmoid, Scalar>, Dense<Tanh, Scalar>,
                               Dense<Relu, Scalar>>;
    static constexpr const char* object = "Network";
    static constexpr bool descends = true;

    std::vector<Layer> layers;

    std::size_t size() const { return layers.size(); }
    template <class F>
    decltype(auto) visit(std::size_t k, F&& f) {
        return std::visit(f, layers[k]);
    }
    template <class F>
    decltype(auto) visit(std::size_t k, F&& f) const {
        return std::visit(f, layers[k]);
    }
    template <class F>
    void for_each(F&& f) {
        for (auto& layer : layers) std::visit(f, layer);
    }
    template <class F>
    void for_each(F&& f) const {
        for (const auto& layer : layers) std::visit(f, layer);
    }
};

// The head chosen at run time: a switch, then the same static policy Mlp calls directly.
template <std::floating_point Scalar>
class RuntimeHead {
public:
    enum class Kind : unsigned char { softmax_cross_entropy, sigmoid_cross_entropy, squared_error };
    explicit RuntimeHead(Kind kind) : kind_(kind) {}

    template <class F>
    decltype(auto) visit(F&& f) const {
        switch (kind_) {
            case Kind::sigmoid_cross_entropy:
                return f(std::type_identity<SigmoidCrossEntropy<Scalar>>{});
            case Kind::squared_error:
                return f(std::type_identity<SquaredError<Scalar>>{});
            default:
                return f(std::type_identity<SoftmaxCrossEntropy<Scalar>>{});
        }
    }

private:
    Kind kind_;
};

}  // namespace detail

template <std::floating_point Scalar = float>
class Network : public detail::NetworkCore<detail::LayerVector<Scalar>, detail::RuntimeHead<Scalar>> {
    using Core = detail::NetworkCore<detail::LayerVector<Scalar>, detail::RuntimeHead<Scalar>>;
    using Head = detail::RuntimeHead<Scalar>;

public:
    using typename Core::Matrix;
    using typename Core::Vector;
    using Layer = typename detail::LayerVector<Scalar>::Layer;

    // From an architecture: its layers (dense; identity, sigmoid, tanh or relu; the output layer's
    // identity), sizes, dropout rates and head; its scalar must be this network's.
    // throws: argument_error (an empty list, an unknown kind, activation or head, a size below 1,
    //         a bad rate, another scalar), shape_error (layers that do not chain).
    explicit Network(const Architecture& architecture, std::uint64_t seed = 0)
        : Core(layers_of(architecture), head_of(architecture), seed) {
        for (std::size_t k = 1; k < architecture.layers.size(); ++k)
            this->set_dropout(k, architecture.layers[k - 1].dropout);
    }
    // From a spec such as "784-512:relu-256:relu-10" (network_spec.hpp).
    // throws: argument_error naming the token and its position.
    explicit Network(std::string_view spec, std::uint64_t seed = 0)
        : Network(of_this_scalar(parse_network_spec(spec)), seed) {}
    // From code: inputs -> hidden... -> outputs, the output layer Dense<Identity>, then the head.
    Network(Eigen::Index inputs, const std::vector<HiddenLayer>& hidden, Eigen::Index outputs,
            std::string head = SoftmaxCrossEntropy<>::name, std::uint64_t seed = 0)
        : Network(make_architecture(inputs, hidden, outputs, std::move(head), scalar_name()), seed) {}

    // L + 1
    std::size_t depth() const { return this->layers_.size(); }
    // Layer k + 1 (k from 0, as Mlp::layer<K>): one of the Dense types of Layer.
    // throws: argument_error for k >= depth().
    Layer& layer(std::size_t k) {
        this->forget_bounds();  // W(k), b(k) are writable through it
        return this->layers_.layers[checked(k)];
    }
    const Layer& layer(std::size_t k) const { return this->layers_.layers[checked(k)]; }
    // The spec of this network, such as "784-512:relu-10".
    std::string spec() const { return network_spec(this->architecture()); }

    template <std::floating_point T>
    using rebind = Network<T>;

    // A copy over another scalar type: θ converted, the same dropout settings and engine.
    template <std::floating_point T>
    Network<T> cast() const {
        auto a = this->architecture();
        a.scalar = std::is_same_v<T, float> ? "float" : "double";
        Network<T> out(a);
        out.parameters() = this->parameters().template cast<T>();
        this->copy_dropout_to(out);
        return out;
    }

private:
    std::size_t checked(std::size_t k) const {
        if (k >= depth())
            throw argument_error("Network::layer: index " + std::to_string(k) + " is outside [0, " +
                                 std::to_string(depth()) + ") (k from 0: layer(0) is layer 1)");
        return k;
    }
    static std::string scalar_name() { return std::is_same_v<Scalar, float> ? "float" : "double"; }
    static Architecture of_this_scalar(Architecture a) {
        a.scalar = scalar_name();
        return a;
    }

    static Head head_of(const Architecture& a) {
        using Kind = typename Head::Kind;
        if (a.head == SoftmaxCrossEntropy<Scalar>::name) return Head(Kind::softmax_cross_entropy);
        if (a.head == SigmoidCrossEntropy<Scalar>::name) return Head(Kind::sigmoid_cross_entropy);
        if (a.head == SquaredError<Scalar>::name) return Head(Kind::squared_error);
        std::vector<const char*> names;
        for (const auto& head : detail::head_names) names.push_back(head.name);
        throw argument_error("Network: unknown head \"" + a.head + "\"; expected " + detail::one_of(names));
    }

    // Every field checked before the first layer is made.
    static detail::LayerVector<Scalar> layers_of(const Architecture& a) {
        if (a.scalar != scalar_name())
            throw argument_error("Network<" + scalar_name() + ">: the architecture is of " + a.scalar +
                                 " (build a Network<" + a.scalar + ">)");
        if (a.layers.empty())
            throw argument_error(
                "Network: the architecture has no layer; it needs at least the output layer");
        head_of(a);
        detail::LayerVector<Scalar> v;
        v.layers.reserve(a.layers.size());
        for (std::size_t k = 0; k < a.layers.size(); ++k) {
            const auto& spec = a.layers[k];
            const std::string layer =
                "Network: layer " + std::to_string(k + 1) + " of " + std::to_string(a.layers.size());
            const bool output = k + 1 == a.layers.size();
            if (spec.kind != "dense")
                throw argument_error(layer + " is of kind \"" + spec.kind + "\"; expected dense");
            if (!detail::is_activation(spec.activation))
                throw argument_error(layer + " has activation \"" + spec.activation + "\"; expected " +
                                     detail::one_of(detail::activation_names));
            if (output && spec.activation != Identity::name)
                throw argument_error(layer + " (the output layer) has activation " + spec.activation +
                                     "; expected identity: the head applies its own f to a(L+1)");
            if (spec.inputs < 1 || spec.outputs < 1)
                throw argument_error(layer + " has " + std::to_string(spec.inputs) + " inputs and " +
                                     std::to_string(spec.outputs) + " outputs; expected at least 1 of each");
            if (k > 0 && spec.inputs != a.layers[k - 1].outputs)
                throw shape_error(layer + " takes " + std::to_string(spec.inputs) + " inputs but layer " +
                                  std::to_string(k) + " gives " + std::to_string(a.layers[k - 1].outputs) +
                                  " outputs");
            if (!(spec.dropout >= 0 && spec.dropout < 1) || (output && spec.dropout != 0))
                throw argument_error(
                    layer + " has dropout " + detail::number(spec.dropout) +
                    (output ? "; expected 0 on the output layer" : "; expected a rate in [0, 1)"));
        }
        for (const auto& spec : a.layers) v.layers.push_back(make_layer(spec));
        return v;
    }

    static Layer make_layer(const LayerSpec& spec) {
        if (spec.activation == Sigmoid::name) return Dense<Sigmoid, Scalar>(spec.inputs, spec.outputs);
        if (spec.activation == Tanh::name) return Dense<Tanh, Scalar>(spec.inputs, spec.outputs);
        if (spec.activation == Relu::name) return Dense<Relu, Scalar>(spec.inputs, spec.outputs);
        return Dense<Identity, Scalar>(spec.inputs, spec.outputs);
    }
};

}  // namespace descent
