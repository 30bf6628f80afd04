// ONNX export (io/onnx_export.hpp): the graph's nodes, tensors and outputs as the header
// describes them, θ stored bit for bit, what ONNX cannot say refused before any file is touched,
// and the atomic write. That ONNX Runtime and the onnx checker accept the files is
// tests/onnx/'s job (clients nobody here wrote); this file reads them back with the wire reader.
#include <cstring>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/sigmoid.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/io/onnx_export.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <string>
#include <vector>

#include "file_support.hpp"
#include "support.hpp"

using Catch::Matchers::Contains;
using descent::Architecture;
using descent::Dense;
using descent::Identity;
using descent::Mlp;
using descent::Relu;
using descent::Sigmoid;
using descent::Tanh;
using descent::detail::protobuf::field;
using descent::detail::protobuf::reader;
using descent::test::contents;
using descent::test::message_of;
using descent::test::TempDir;
namespace onnx = descent::detail::onnx;

namespace {

// What a test needs to see of a model: the nodes' ops and wiring, the tensors, the outputs.
struct Seen {
    std::int64_t ir = 0, opset = 0;
    std::vector<std::string> ops, node_inputs, outputs, input_dims;
    std::vector<std::string> transB;
    std::vector<std::pair<std::string, std::string>> tensors;  // name, raw bytes
    std::vector<std::vector<std::int64_t>> tensor_dims;
    std::uint64_t element = 0;
    std::string head;
};

std::string text(const field& f) {
    return std::string(f.bytes);
}

Seen look(const std::string& bytes) {
    Seen s;
    for (reader m(bytes); !m.done();) {
        const field f = m.next();
        if (f.number == onnx::model::ir_version) s.ir = f.as_int64();
        if (f.number == onnx::model::opset_import)
            for (reader o = reader::of(f); !o.done();) {
                const field g = o.next();
                if (g.number == onnx::opset_id::version) s.opset = g.as_int64();
            }
        if (f.number == onnx::model::metadata_props) {
            reader e = reader::of(f);
            e.next();
            s.head = text(e.next());
        }
        if (f.number != onnx::model::graph) continue;
        for (reader g = reader::of(f); !g.done();) {
            const field n = g.next();
            if (n.number == onnx::graph::node) {
                std::string inputs;
                for (reader r = reader::of(n); !r.done();) {
                    const field x = r.next();
                    if (x.number == onnx::node::op_type) s.ops.push_back(text(x));
                    if (x.number == onnx::node::input) inputs += text(x) + ",";
                    if (x.number == onnx::node::attribute) {
                        reader a = reader::of(x);
                        const std::string name = text(a.next());
                        s.transB.push_back(name + "=" + std::to_string(a.next().as_int64()));
                    }
                }
                s.node_inputs.push_back(inputs);
            } else if (n.number == onnx::graph::initializer) {
                std::string name, raw;
                std::vector<std::int64_t> dims;
                for (reader r = reader::of(n); !r.done();) {
                    const field x = r.next();
                    if (x.number == onnx::tensor::name) name = text(x);
                    if (x.number == onnx::tensor::raw_data) raw = text(x);
                    if (x.number == onnx::tensor::data_type) s.element = x.value;
                    if (x.number == onnx::tensor::dims)
                        descent::detail::protobuf::for_each_packed_varint(
                            x, [&](std::uint64_t d) { dims.push_back(static_cast<std::int64_t>(d)); });
                }
                s.tensors.emplace_back(name, raw);
                s.tensor_dims.push_back(dims);
            } else if (n.number == onnx::graph::output || n.number == onnx::graph::input) {
                reader r = reader::of(n);
                const std::string name = text(r.next());
                if (n.number == onnx::graph::output)
                    s.outputs.push_back(name);
                else {
                    // type -> tensor_type -> shape -> dims
                    reader type = reader::of(r.next());
                    reader tensor = reader::of(type.next());
                    tensor.next();
                    for (reader shape = reader::of(tensor.next()); !shape.done();) {
                        reader dim = reader::of(shape.next());
                        const field d = dim.next();
                        s.input_dims.push_back(
                            d.number == onnx::dimension::dim_param ? text(d) : std::to_string(d.value));
                    }
                }
            }
        }
    }
    return s;
}

}  // namespace

TEMPLATE_TEST_CASE("export writes one Gemm per layer, its activation, the head, and θ bit for bit",
                   "[onnx][export]", float, double) {
    Mlp<Dense<Relu, TestType>, Dense<Tanh, TestType>, Dense<Sigmoid, TestType>, Dense<Identity, TestType>>
        net({5, 4, 3, 6, 2}, 11);
    TempDir dir;
    descent::export_onnx(net, dir / "net.onnx");
    const Seen s = look(contents(dir / "net.onnx"));
    CHECK(s.ir == 7);
    CHECK(s.opset == 13);
    CHECK(s.ops ==
          std::vector<std::string>{"Gemm", "Relu", "Gemm", "Tanh", "Gemm", "Sigmoid", "Gemm", "Softmax"});
    CHECK(s.node_inputs == std::vector<std::string>{"input,W1,b1,", "a1,", "h1,W2,b2,", "a2,", "h2,W3,b3,",
                                                    "a3,", "h3,W4,b4,", "logits,"});
    CHECK(s.transB == std::vector<std::string>{"transB=0", "transB=0", "transB=0", "transB=0", "axis=1"});
    CHECK(s.outputs == std::vector<std::string>{"probabilities", "logits"});
    CHECK(s.input_dims == std::vector<std::string>{"batch", "5"});
    CHECK(s.element == (std::is_same_v<TestType, float> ? onnx::type_float : onnx::type_double));
    CHECK(s.head == "softmax_cross_entropy");
    // θ, block by block, as the bytes of W(k) (dims [H_(k-1), H_k]) and b(k): nothing converted.
    REQUIRE(s.tensors.size() == 8);
    const auto& blocks = net.parameter_blocks();
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        const auto& block = blocks[i];
        const std::string expected(reinterpret_cast<const char*>(net.parameters().data() + block.offset),
                                   static_cast<std::size_t>(block.size()) * sizeof(TestType));
        CHECK(s.tensors[i].first == (block.is_weight ? "W" : "b") + block.name.substr(2, 1));
        CHECK(s.tensors[i].second == expected);
        if (block.is_weight)
            CHECK(s.tensor_dims[i] == std::vector<std::int64_t>{block.cols, block.rows});
        else
            CHECK(s.tensor_dims[i] == std::vector<std::int64_t>{block.rows});
    }
}

TEST_CASE("the sigmoid head outputs Sigmoid(logits), squared_error a(L+1) alone", "[onnx][export]") {
    Architecture a;
    a.layers = {{"dense", "relu", 3, 4}, {"dense", "identity", 4, 2}};
    a.head = "sigmoid_cross_entropy";
    const std::vector<float> theta(4 * 4 + 2 * 5, 0.5f);
    Seen s = look(onnx::encode_onnx<float>(a, theta));
    CHECK(s.ops == std::vector<std::string>{"Gemm", "Relu", "Gemm", "Sigmoid"});
    CHECK(s.outputs == std::vector<std::string>{"probabilities", "logits"});
    CHECK(s.head == "sigmoid_cross_entropy");
    a.head = "squared_error";
    s = look(onnx::encode_onnx<float>(a, theta));
    CHECK(s.ops == std::vector<std::string>{"Gemm", "Relu", "Gemm"});
    CHECK(s.outputs == std::vector<std::string>{"output"});
    CHECK(s.head == "squared_error");
}

TEST_CASE("what ONNX cannot say here is refused with what and where, and no file is written",
          "[onnx][export]") {
    Architecture a;
    a.layers = {{"dense", "relu", 3, 4}, {"dense", "identity", 4, 2}};
    const std::vector<float> theta(26, 0.f);
    auto error_of = [&](const Architecture& b, std::size_t n = 26) {
        return message_of<descent::error>([&] { onnx::encode_onnx<float>(b, std::span(theta.data(), n)); });
    };
    Architecture b = a;
    b.layers[0].kind = "conv";
    CHECK(error_of(b) == "export_onnx: layer 1: kind \"conv\" has no ONNX form here (only dense)");
    CHECK_THROWS_AS(onnx::encode_onnx<float>(b, theta), descent::unsupported_onnx_error);
    b = a;
    b.layers[0].activation = "softplus";
    CHECK(error_of(b) ==
          "export_onnx: layer 1: activation \"softplus\" has no ONNX form here (identity, relu, tanh, "
          "sigmoid)");
    b = a;
    b.head = "hinge";
    CHECK_THAT(error_of(b), Contains("head \"hinge\" has no ONNX form here"));
    b = a;
    b.layers[1].activation = "relu";
    CHECK_THAT(error_of(b), Contains("the output layer's activation is relu"));
    b = a;
    b.layers[1].inputs = 5;
    CHECK(error_of(b) == "export_onnx: layer 2: takes 5 inputs but layer 1 gives 4");
    CHECK_THROWS_AS(onnx::encode_onnx<float>(b, theta), descent::shape_error);
    CHECK(error_of(a, 25) ==
          "export_onnx: 3-4:relu-2 (softmax_cross_entropy, float) has 26 parameters, "
          "θ has 25");
    b = a;
    b.scalar = "double";
    CHECK_THROWS_AS(onnx::encode_onnx<float>(b, theta), descent::argument_error);
}

TEST_CASE("export replaces a file atomically and reports a path it cannot write", "[onnx][export]") {
    Mlp<Dense<Relu>, Dense<Identity>> net({3, 4, 2}, 1);
    TempDir dir;
    const auto path = dir.write("model.onnx", "old contents");
    descent::export_onnx(net, path);
    CHECK(contents(path).size() > 100);
    int files = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++files;
    CHECK(files == 1);  // no temporary file left
    CHECK_THROWS_AS(descent::export_onnx(net, dir / "missing" / "model.onnx"), descent::io_error);
}
