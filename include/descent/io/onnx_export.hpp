#pragma once
// A trained network as an ONNX file, for the serving stacks that read ONNX (ONNX Runtime,
// TensorRT, OpenVINO, browsers):
//
//   descent::export_onnx(net, "fashion.onnx");
//
// The graph, for layers k = 1..L+1 and a batch of B samples as rows (ONNX's convention; descent's
// columns are samples, so every product below is descent's, transposed):
//
//   input          [B, H_0]      float or double: the raw input (a standardisation folded
//                                into W(1), b(1) is part of the weights, so it needs no node)
//   a(k) = Gemm(h(k-1), W(k)ᵀ, b(k))      h(k-1) [B, H_(k-1)] · [H_(k-1), H_k] + b(k)
//   h(k) = Relu | Tanh | Sigmoid (a(k))   no node for identity
//   logits         [B, C]        a(L+1)
//   probabilities  [B, C]        the head's f(x): Softmax(logits, axis 1) for
//                                softmax_cross_entropy, Sigmoid(logits) for sigmoid_cross_entropy
//   (squared_error's f(x) is a(L+1) itself: its one output is "output")
//
// The model's metadata "descent.head" names the head, which import_onnx reads back (a graph
// ending at a(L+1) cannot show whether it was squared_error or a classifier's logits).
//
// B is a symbolic dimension ("batch"), so any batch size runs. The weights are stored in the
// network's own scalar type (a float network gives a float model, a double one a double model)
// so that the file holds θ bit for bit and import gives it back exactly; ONNX Runtime runs
// both. W(k) is stored as Wᵀ, dims [H_(k-1), H_k] row-major, which is byte for byte descent's
// column-major H_k x H_(k-1) block, so Gemm takes it untransposed (transB = 0).
#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../architecture.hpp"
#include "../detail/file.hpp"
#include "../detail/onnx_schema.hpp"
#include "../detail/protobuf.hpp"
#include "../error.hpp"
#include "onnx_error.hpp"

namespace descent {

namespace detail::onnx {

using protobuf::writer;

inline bool is_activation(std::string_view name) {
    return name == "identity" || name == "relu" || name == "tanh" || name == "sigmoid";
}
// The ONNX operator of a hidden activation, a head's probabilities; "" for none.
inline std::string_view operator_of_activation(std::string_view name) {
    return name == "relu" ? "Relu" : name == "tanh" ? "Tanh" : name == "sigmoid" ? "Sigmoid" : "";
}
inline std::string_view operator_of_head(std::string_view head) {
    return head == "softmax_cross_entropy" ? "Softmax" : head == "sigmoid_cross_entropy" ? "Sigmoid" : "";
}
inline bool is_head(std::string_view head) {
    return head == "softmax_cross_entropy" || head == "sigmoid_cross_entropy" || head == "squared_error";
}

// "784-512-10 (dense relu, dense identity), softmax_cross_entropy, float": for messages and the doc string.
inline std::string describe(const Architecture& a) {
    if (a.layers.empty()) return "no layers";
    std::string text = std::to_string(a.layers.front().inputs);
    for (const auto& layer : a.layers) {
        text += '-';
        text += std::to_string(layer.outputs);
    }
    text += " (";
    for (std::size_t k = 0; k < a.layers.size(); ++k) {
        if (k > 0) text += ", ";
        text += a.layers[k].kind;
        text += ' ';
        text += a.layers[k].activation;
    }
    return text + "), " + a.head + ", " + a.scalar;
}

// Σ_k H_k (H_(k-1) + 1): the length of θ.
inline Eigen::Index parameter_count(const Architecture& a) {
    Eigen::Index n = 0;
    for (const auto& layer : a.layers) n += layer.outputs * (layer.inputs + 1);
    return n;
}

inline writer tensor_value_info(std::string_view name, std::uint64_t element_type, std::int64_t columns) {
    writer batch, width, shape, tensor, type, info;
    batch.bytes(dimension::dim_param, "batch");
    width.int64(dimension::dim_value, columns);
    shape.message(shape::dim, batch);
    shape.message(shape::dim, width);
    tensor.varint(tensor_type::elem_type, element_type);
    tensor.message(tensor_type::shape, shape);
    type.message(type::tensor_type, tensor);
    info.bytes(value_info::name, name);
    info.message(value_info::type, type);
    return info;
}

// A tensor of `dims` whose row-major elements are `data`, little-endian in raw_data.
template <std::floating_point Scalar>
writer tensor_proto(std::string_view name, std::initializer_list<std::int64_t> dims, const Scalar* data,
                    std::size_t count) {
    writer t;
    t.packed_varints(tensor::dims, std::vector<std::int64_t>(dims));
    t.varint(tensor::data_type, std::is_same_v<Scalar, float> ? type_float : type_double);
    t.bytes(tensor::name, name);
    std::string raw(count * sizeof(Scalar), '\0');
    if (count > 0) std::memcpy(raw.data(), data, raw.size());
    if constexpr (std::endian::native == std::endian::big)
        for (std::size_t i = 0; i < count; ++i)
            std::reverse(raw.begin() + static_cast<std::ptrdiff_t>(i * sizeof(Scalar)),
                         raw.begin() + static_cast<std::ptrdiff_t>((i + 1) * sizeof(Scalar)));
    t.reserve(raw.size() + 16);
    t.bytes(tensor::raw_data, raw);
    return t;
}

inline writer node_proto(std::string_view op, std::string_view name,
                         std::initializer_list<std::string_view> inputs, std::string_view output) {
    writer n;
    for (const auto input : inputs) n.bytes(node::input, input);
    n.bytes(node::output, output);
    n.bytes(node::name, name);
    n.bytes(node::op_type, op);
    return n;
}

inline writer int_attribute(std::string_view name, std::int64_t value) {
    writer a;
    a.bytes(attribute::name, name);
    a.int64(attribute::i, value);
    a.varint(attribute::type, attribute::type_int);
    return a;
}

// Checks that `a` is something ONNX and this exporter can say, and that θ has its size.
// throws: unsupported_onnx_error (a layer kind, activation or head with no ONNX form),
//         shape_error (no layers, sizes that do not chain, θ of another length),
//         argument_error (a scalar name that is not Scalar's).
template <std::floating_point Scalar>
void check_exportable(const Architecture& a, Eigen::Index theta_size) {
    constexpr const char* scalar = std::is_same_v<Scalar, float> ? "float" : "double";
    static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                  "export_onnx: ONNX models of descent hold float or double");
    if (a.scalar != scalar)
        throw argument_error("export_onnx: the architecture says " + a.scalar + " but θ is " + scalar);
    if (a.layers.empty()) throw shape_error("export_onnx: the network has no layers");
    for (std::size_t k = 0; k < a.layers.size(); ++k) {
        const auto& layer = a.layers[k];
        const std::string where = "export_onnx: layer " + std::to_string(k + 1) + ": ";
        if (layer.kind != "dense")
            throw unsupported_onnx_error(where + "kind \"" + layer.kind +
                                         "\" has no ONNX form here (only dense)");
        if (!is_activation(layer.activation))
            throw unsupported_onnx_error(where + "activation \"" + layer.activation +
                                         "\" has no ONNX form here (identity, relu, tanh, sigmoid)");
        if (layer.inputs < 1 || layer.outputs < 1)
            throw shape_error(where + "sizes " + std::to_string(layer.inputs) + " -> " +
                              std::to_string(layer.outputs));
        if (k > 0 && layer.inputs != a.layers[k - 1].outputs)
            throw shape_error(where + "takes " + std::to_string(layer.inputs) + " inputs but layer " +
                              std::to_string(k) + " gives " + std::to_string(a.layers[k - 1].outputs));
    }
    if (!is_head(a.head))
        throw unsupported_onnx_error(
            "export_onnx: head \"" + a.head +
            "\" has no ONNX form here (softmax_cross_entropy, sigmoid_cross_entropy, "
            "squared_error)");
    if (a.layers.back().activation != "identity")
        throw unsupported_onnx_error("export_onnx: the output layer's activation is " +
                                     a.layers.back().activation +
                                     "; the head acts on a(L+1), so descent's output layer is identity");
    if (parameter_count(a) != theta_size)
        throw shape_error("export_onnx: " + onnx::describe(a) + " has " + std::to_string(parameter_count(a)) +
                          " parameters, θ has " + std::to_string(theta_size));
}

// The ONNX model (a serialised ModelProto) of a network of architecture `a` and parameters θ.
// throws: as check_exportable.
template <std::floating_point Scalar>
std::string encode_onnx(const Architecture& a, std::span<const Scalar> theta) {
    check_exportable<Scalar>(a, static_cast<Eigen::Index>(theta.size()));
    const std::uint64_t element = std::is_same_v<Scalar, float> ? type_float : type_double;
    const bool classifier = a.head != "squared_error";
    const std::string last = classifier ? "logits" : "output";

    writer graph;
    std::vector<writer> initializers;
    std::string h = "input";
    std::size_t offset = 0;
    for (std::size_t k = 0; k < a.layers.size(); ++k) {
        const auto& layer = a.layers[k];
        const auto in = static_cast<std::size_t>(layer.inputs), out = static_cast<std::size_t>(layer.outputs);
        const std::string n = std::to_string(k + 1);
        const bool output_layer = k + 1 == a.layers.size();
        const bool activated = layer.activation != "identity";
        const std::string a_k = output_layer ? last : "a" + n;
        // a(k) = W(k) h(k-1) + b(k), rows as samples: h(k-1)ᵀ-rows · W(k)ᵀ + b(k)
        writer gemm = node_proto("Gemm", "dense" + n, {h, "W" + n, "b" + n}, a_k);
        gemm.message(node::attribute, int_attribute("transB", 0));
        graph.message(graph::node, gemm);
        initializers.push_back(
            tensor_proto<Scalar>("W" + n, {layer.inputs, layer.outputs}, theta.data() + offset, in * out));
        initializers.push_back(
            tensor_proto<Scalar>("b" + n, {layer.outputs}, theta.data() + offset + in * out, out));
        offset += out * (in + 1);
        h = a_k;
        if (activated) {  // h(k) = g(a(k))
            const std::string h_k = "h" + n;
            graph.message(graph::node, node_proto(operator_of_activation(layer.activation),
                                                  layer.activation + n, {a_k}, h_k));
            h = h_k;
        }
    }
    if (classifier) {  // f(x) = softmax(a(L+1)) or sigmoid(a(L+1)), as the head's loss sees it
        writer head = node_proto(operator_of_head(a.head), "head", {last}, "probabilities");
        if (a.head == "softmax_cross_entropy") head.message(node::attribute, int_attribute("axis", 1));
        graph.message(graph::node, head);
    }
    graph.bytes(graph::name, "descent");
    for (const auto& t : initializers) graph.message(graph::initializer, t);
    graph.bytes(graph::doc_string, "descent " + onnx::describe(a));
    graph.message(graph::input, tensor_value_info("input", element, a.layers.front().inputs));
    const auto classes = a.layers.back().outputs;
    if (classifier) graph.message(graph::output, tensor_value_info("probabilities", element, classes));
    graph.message(graph::output, tensor_value_info(last, element, classes));
    initializers.clear();

    writer opset_import, model;
    opset_import.bytes(opset_id::domain, "");
    opset_import.int64(opset_id::version, opset);
    model.int64(model::ir_version, ir_version);
    model.bytes(model::producer_name, "descent");
    model.bytes(model::producer_version, "0.1.0");
    model.reserve(graph.str().size() + 64);
    model.message(model::graph, graph);
    model.message(model::opset_import, opset_import);
    writer head;
    head.bytes(string_entry::key, head_metadata);
    head.bytes(string_entry::value, a.head);
    model.message(model::metadata_props, head);
    return std::move(model).str();
}

}  // namespace detail::onnx

// A network that export_onnx can write: what it is as plain data, and θ in one buffer.
template <class Net>
concept OnnxExportable = requires(const Net& net) {
    { net.architecture() } -> std::convertible_to<Architecture>;
    { net.parameters().data() } -> std::convertible_to<const typename Net::scalar_type*>;
    { net.parameters().size() } -> std::convertible_to<Eigen::Index>;
};

// Writes `net` to `path` as an ONNX model (the graph described at the top of this header),
// atomically: a reader or a crash sees the old file or the new one, never half of one.
// ensures: ONNX Runtime on the file gives net's f(x) (and a(L+1) as "logits") up to rounding;
//          import_onnx(path) gives back net's architecture and θ bit for bit.
// throws: unsupported_onnx_error (a layer kind, activation or head ONNX cannot say here),
//         io_error naming the path, the step and errno's text (the old file is then intact).
template <OnnxExportable Net>
void export_onnx(const Net& net, const std::filesystem::path& path) {
    using Scalar = typename Net::scalar_type;
    const auto theta = net.parameters();
    detail::atomic_write(path, detail::onnx::encode_onnx<Scalar>(
                                   net.architecture(), std::span<const Scalar>(theta.data(), theta.size())));
}

}  // namespace descent
