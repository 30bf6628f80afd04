#pragma once
// What a network is, as plain data: its layers in order, its output head and its scalar type.
// Model files, checkpoints, summaries and ONNX export read and write this, so that none of them
// needs a list of layer types: every layer names its own kind and activation, every head its name.
// Mlp::architecture() and Network::architecture() give it; Network<Scalar>(architecture) and
// Mlp's constructor from an Architecture build from it.
#include <Eigen/Core>
#include <string>
#include <utility>
#include <vector>

#include "detail/message.hpp"

namespace descent {

// One layer k: "dense" with activation g, a(k) = W(k) h(k-1) + b(k), h(k) = g(a(k)).
struct LayerSpec {
    std::string kind;          // "dense"
    std::string activation;    // "identity", "sigmoid", "tanh", "relu"
    Eigen::Index inputs = 0;   // H_(k-1)
    Eigen::Index outputs = 0;  // H_k
    // Inverted dropout on h(k) while training (layers/dropout.hpp): the probability p in [0, 1) that
    // a unit is dropped. Hidden layers only; 0 for the output layer.
    double dropout = 0;
    bool operator==(const LayerSpec&) const = default;
};

struct Architecture {
    std::vector<LayerSpec> layers;               // layer 1 first; the last is the output layer
    std::string head = "softmax_cross_entropy";  // "softmax_cross_entropy", "sigmoid_cross_entropy",
                                                 // "squared_error": the loss on a(L+1), which also gives f(x)
    std::string scalar = "float";                // "float" or "double"
    bool operator==(const Architecture&) const = default;
};

// A hidden layer as code writes it: Network<float> net(784, {{512, "relu", 0.5}, {256}}, 10).
struct HiddenLayer {
    Eigen::Index width;
    std::string activation = "relu";
    double dropout = 0;
};

// The architecture of dense layers inputs -> hidden... -> outputs, the output layer Dense<Identity>.
// Nothing is checked here: the network built from it checks everything.
inline Architecture make_architecture(Eigen::Index inputs, const std::vector<HiddenLayer>& hidden,
                                      Eigen::Index outputs, std::string head = "softmax_cross_entropy",
                                      std::string scalar = "float") {
    Architecture a;
    a.head = std::move(head);
    a.scalar = std::move(scalar);
    Eigen::Index previous = inputs;
    for (const auto& layer : hidden) {
        a.layers.push_back({"dense", layer.activation, previous, layer.width, layer.dropout});
        previous = layer.width;
    }
    a.layers.push_back({"dense", "identity", previous, outputs, 0.0});
    return a;
}

}  // namespace descent

namespace descent {

// The architecture as messages show it: "784-128:relu-10 (softmax_cross_entropy, float)",
// each hidden layer's width with its activation, the output layer's width last.
inline std::string describe(const Architecture& a) {
    if (a.layers.empty()) return "no layers";
    std::string text = detail::join({a.layers.front().inputs});
    for (const auto& layer : a.layers) {
        detail::append(text, {"-", layer.outputs});
        if (layer.kind != "dense") detail::append(text, {":", layer.kind});
        if (&layer != &a.layers.back() || layer.activation != "identity")
            detail::append(text, {":", layer.activation});
        if (layer.dropout > 0) detail::append(text, {":dropout=", std::to_string(layer.dropout)});
    }
    detail::append(text, {" (", a.head, ", ", a.scalar, ")"});
    return text;
}

}  // namespace descent
