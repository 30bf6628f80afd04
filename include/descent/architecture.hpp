#pragma once
// What a network is, as plain data: its layers in order, its output head and its scalar type.
// Model files, checkpoints, summaries and ONNX export read and write this, so that none of them
// needs a list of layer types: every layer names its own kind and activation.
#include <Eigen/Core>
#include <string>
#include <vector>

namespace descent {

// One layer k: "dense" with activation g, a(k) = W(k) h(k-1) + b(k), h(k) = g(a(k)).
struct LayerSpec {
    std::string kind;          // "dense"
    std::string activation;    // "identity", "sigmoid", "tanh", "relu"
    Eigen::Index inputs = 0;   // H_(k-1)
    Eigen::Index outputs = 0;  // H_k
    bool operator==(const LayerSpec&) const = default;
};

struct Architecture {
    std::vector<LayerSpec> layers;               // layer 1 first
    std::string head = "softmax_cross_entropy";  // the loss on a(L+1), which also gives f(x)
    std::string scalar = "float";                // "float" or "double"
    bool operator==(const Architecture&) const = default;
};

}  // namespace descent

namespace descent {

// The architecture as messages show it: "784-128:relu-10 (softmax_cross_entropy, float)",
// each hidden layer's width with its activation, the output layer's width last.
inline std::string describe(const Architecture& a) {
    if (a.layers.empty()) return "no layers";
    std::string text = std::to_string(a.layers.front().inputs);
    for (const auto& layer : a.layers) {
        text += '-' + std::to_string(layer.outputs);
        if (layer.kind != "dense") text += ':' + layer.kind;
        if (&layer != &a.layers.back() || layer.activation != "identity") text += ':' + layer.activation;
    }
    return text + " (" + a.head + ", " + a.scalar + ")";
}

}  // namespace descent
