#pragma once
// ONNX files built by hand, for the import tests and the fuzz seeds: the graphs other exporters
// write (PyTorch's Gemm with transB = 1, MatMul + Add, Flatten, Identity) and broken ones, with
// descent's own wire-format writer and field numbers, so no protobuf library is needed.
#include <bit>
#include <cstdint>
#include <cstring>
#include <descent/detail/onnx_schema.hpp>
#include <descent/detail/protobuf.hpp>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace descent::test {

namespace onnx = descent::detail::onnx;
using protobuf_writer = descent::detail::protobuf::writer;

// How a tensor's numbers are stored: raw_data, packed float_data/double_data, or one field each.
enum class storage { raw, packed, unpacked };

struct OnnxAttribute {
    std::string name;
    std::int64_t i = 0;
    float f = 0;
    bool is_float = false;
};
inline OnnxAttribute int_attr(std::string name, std::int64_t value) {
    return {std::move(name), value, 0, false};
}
inline OnnxAttribute float_attr(std::string name, float value) {
    return {std::move(name), 0, value, true};
}

class OnnxBuilder {
public:
    std::int64_t ir_version = 7;
    std::int64_t opset = 13;
    std::uint64_t element_type = onnx::type_float;

    OnnxBuilder& node(std::string_view op, std::string_view name,
                      std::initializer_list<std::string_view> inputs, std::string_view output,
                      std::initializer_list<OnnxAttribute> attributes = {}, std::string_view domain = "") {
        protobuf_writer n;
        for (const auto input : inputs) n.bytes(onnx::node::input, input);
        n.bytes(onnx::node::output, output);
        if (!name.empty()) n.bytes(onnx::node::name, name);
        n.bytes(onnx::node::op_type, op);
        for (const auto& a : attributes) {
            protobuf_writer w;
            w.bytes(onnx::attribute::name, a.name);
            if (a.is_float)
                w.fixed32(onnx::attribute::f, a.f);
            else
                w.int64(onnx::attribute::i, a.i);
            w.varint(onnx::attribute::type,
                     a.is_float ? onnx::attribute::type_float : onnx::attribute::type_int);
            n.message(onnx::node::attribute, w);
        }
        if (!domain.empty()) n.bytes(onnx::node::domain, domain);
        nodes_.push_back(std::move(n));
        return *this;
    }

    // An initializer of `dims` holding `values` row-major, in element_type (or `type`).
    OnnxBuilder& initializer(std::string_view name, std::initializer_list<std::int64_t> dims,
                             const std::vector<double>& values, storage how = storage::raw,
                             std::uint64_t type = 0) {
        if (type == 0) type = element_type;
        protobuf_writer t;
        for (const auto d : dims) t.int64(onnx::tensor::dims, d);  // unpacked, as older writers do
        t.varint(onnx::tensor::data_type, type);
        t.bytes(onnx::tensor::name, name);
        const bool is_float = type != onnx::type_double;
        const std::uint32_t field = is_float ? onnx::tensor::float_data : onnx::tensor::double_data;
        std::string raw;
        for (const double v : values) {
            if (is_float) {
                const auto bits = std::bit_cast<std::uint32_t>(static_cast<float>(v));
                for (int k = 0; k < 4; ++k) raw += static_cast<char>(bits >> (8 * k));
            } else {
                const auto bits = std::bit_cast<std::uint64_t>(v);
                for (int k = 0; k < 8; ++k) raw += static_cast<char>(bits >> (8 * k));
            }
        }
        if (how == storage::raw)
            t.bytes(onnx::tensor::raw_data, raw);
        else if (how == storage::packed)
            t.bytes(field, raw);
        else
            for (const double v : values) {
                if (is_float)
                    t.fixed32(field, static_cast<float>(v));
                else
                    t.fixed64(field, v);
            }
        initializers_.push_back(t.str());
        return *this;
    }
    // A tensor message given as bytes, for broken ones.
    OnnxBuilder& raw_initializer(std::string bytes) {
        initializers_.push_back(std::move(bytes));
        return *this;
    }

    // A graph input or output of `dims`, -1 for the symbolic batch; an empty list: no shape.
    OnnxBuilder& input(std::string_view name, std::initializer_list<std::int64_t> dims,
                       std::uint64_t type = 0) {
        inputs_.push_back(value_info(name, dims, type == 0 ? element_type : type));
        return *this;
    }
    OnnxBuilder& output(std::string_view name, std::initializer_list<std::int64_t> dims,
                        std::uint64_t type = 0) {
        outputs_.push_back(value_info(name, dims, type == 0 ? element_type : type));
        return *this;
    }
    OnnxBuilder& metadata(std::string_view key, std::string_view value) {
        protobuf_writer entry;
        entry.bytes(onnx::string_entry::key, key);
        entry.bytes(onnx::string_entry::value, value);
        metadata_.push_back(std::move(entry));
        return *this;
    }

    std::string graph_bytes() const {
        protobuf_writer graph;
        for (const auto& n : nodes_) graph.message(onnx::graph::node, n);
        graph.bytes(onnx::graph::name, "handmade");
        for (const auto& t : initializers_) graph.bytes(onnx::graph::initializer, t);
        for (const auto& i : inputs_) graph.message(onnx::graph::input, i);
        for (const auto& o : outputs_) graph.message(onnx::graph::output, o);
        return graph.str();
    }
    std::string bytes() const {
        protobuf_writer model, opset_import;
        opset_import.bytes(onnx::opset_id::domain, "");
        opset_import.int64(onnx::opset_id::version, opset);
        model.int64(onnx::model::ir_version, ir_version);
        model.bytes(onnx::model::producer_name, "tests");
        model.bytes(onnx::model::graph, graph_bytes());
        model.message(onnx::model::opset_import, opset_import);
        for (const auto& m : metadata_) model.message(onnx::model::metadata_props, m);
        return model.str();
    }

private:
    static protobuf_writer value_info(std::string_view name, std::initializer_list<std::int64_t> dims,
                                      std::uint64_t type) {
        protobuf_writer shape, tensor, t, info;
        for (const auto d : dims) {
            protobuf_writer dim;
            if (d < 0)
                dim.bytes(onnx::dimension::dim_param, "batch");
            else
                dim.int64(onnx::dimension::dim_value, d);
            shape.message(onnx::shape::dim, dim);
        }
        tensor.varint(onnx::tensor_type::elem_type, type);
        if (dims.size() > 0) tensor.message(onnx::tensor_type::shape, shape);
        t.message(onnx::type::tensor_type, tensor);
        info.bytes(onnx::value_info::name, name);
        info.message(onnx::value_info::type, t);
        return info;
    }

    std::vector<protobuf_writer> nodes_;
    std::vector<std::string> initializers_;
    std::vector<protobuf_writer> inputs_, outputs_, metadata_;
};

// What torch.onnx.export writes for nn.Sequential(Linear(in, hidden), <act>, Linear(hidden, out)):
// Gemm with transB = 1 and W as PyTorch's [out, in], row-major; biases [out].
inline OnnxBuilder pytorch_like(std::int64_t in, std::int64_t hidden, std::int64_t out, std::string_view act,
                                const std::vector<double>& w1, const std::vector<double>& b1,
                                const std::vector<double>& w2, const std::vector<double>& b2) {
    OnnxBuilder g;
    g.ir_version = 7;
    g.opset = 14;
    g.node("Gemm", "/0/Gemm", {"onnx::Gemm_0", "0.weight", "0.bias"}, "/0/Gemm_output_0",
           {float_attr("alpha", 1), float_attr("beta", 1), int_attr("transB", 1)})
        .node(act, "/1/Act", {"/0/Gemm_output_0"}, "/1/Act_output_0")
        .node("Gemm", "/2/Gemm", {"/1/Act_output_0", "2.weight", "2.bias"}, "y",
              {float_attr("alpha", 1), float_attr("beta", 1), int_attr("transB", 1)})
        .initializer("0.weight", {hidden, in}, w1)
        .initializer("0.bias", {hidden}, b1)
        .initializer("2.weight", {out, hidden}, w2)
        .initializer("2.bias", {out}, b2)
        .input("onnx::Gemm_0", {-1, in})
        .output("y", {-1, out});
    return g;
}

}  // namespace descent::test
