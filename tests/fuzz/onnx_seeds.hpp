#pragma once
// fuzz_onnx's seeds (make_seeds writes them to seeds/onnx/): descent's own exports of every
// activation and head in float and double, the graphs PyTorch writes (tests/onnx/onnx_builder.hpp
// builds them as torch.onnx.export does: transposed Gemm, Flatten, Softmax), MatMul + Add, every
// storage of the numbers, and one of each kind of refusal, all under 4 KiB.
#include <descent/io/onnx_export.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../onnx/onnx_builder.hpp"

namespace descent::fuzz {

inline void onnx_seeds(const std::filesystem::path& dir) {
    namespace t = descent::test;
    auto put = [&](const std::string& name, const std::string& bytes) {
        std::ofstream(dir / name, std::ios::binary)
            .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    };
    // descent's exports: a 3-4-2 network (26 parameters) under each activation and head.
    for (const std::string act : {"relu", "tanh", "sigmoid", "identity"})
        for (const std::string head : {"softmax_cross_entropy", "sigmoid_cross_entropy", "squared_error"}) {
            Architecture a;
            a.layers = {{"dense", act, 3, 4}, {"dense", "identity", 4, 2}};
            a.head = head;
            std::vector<float> theta(26);
            for (std::size_t i = 0; i < theta.size(); ++i)
                theta[i] = 0.25f * static_cast<float>(i % 7) - 0.5f;
            put("descent-" + act + "-" + head, detail::onnx::encode_onnx<float>(a, theta));
            if (act == "tanh") {
                a.scalar = "double";
                const std::vector<double> wide(theta.begin(), theta.end());
                put("descent-double-" + head, detail::onnx::encode_onnx<double>(a, wide));
            }
        }

    const std::vector<double> w1{1, 2, 3, 4, 5, 6}, b1{0.5, -0.5, 0}, w2{1, -1, 2}, b2{0.25};
    put("pytorch-relu", t::pytorch_like(2, 3, 1, "Relu", w1, b1, w2, b2).bytes());
    auto softmax = t::pytorch_like(2, 3, 1, "Sigmoid", w1, b1, w2, b2);
    softmax.node("Softmax", "/3/Softmax", {"y"}, "p", {t::int_attr("axis", 1)}).output("p", {-1, 1});
    put("pytorch-softmax", softmax.bytes());

    for (const auto how : {t::storage::raw, t::storage::packed, t::storage::unpacked}) {
        t::OnnxBuilder g;
        g.opset = 9;
        g.node("Flatten", "flat", {"x"}, "f", {t::int_attr("axis", 1)})
            .node("MatMul", "mm", {"f", "W"}, "m")
            .node("Add", "add", {"B", "m"}, "a1")
            .node("Tanh", "", {"a1"}, "h1")
            .node("Identity", "id", {"h1"}, "h1b")
            .node("Gemm", "g", {"h1b", "W2", "B2"}, "logits",
                  {t::float_attr("alpha", 2), t::int_attr("transB", 1)})
            .node("Softmax", "sm", {"logits"}, "p")
            .initializer("W", {2, 3}, w1, how)
            .initializer("B", {3}, b1, how)
            .initializer("W2", {1, 3}, w2, how)
            .initializer("B2", {}, b2, how)
            .input("x", {-1, 1, 2})
            .output("p", {-1, 1})
            .output("logits", {-1, 1});
        put("matmul-add-" + std::to_string(static_cast<int>(how)), g.bytes());
    }

    t::OnnxBuilder conv;
    conv.node("Conv", "c", {"x", "W"}, "y").initializer("W", {1, 1}, {1}).input("x", {-1, 1}).output("y", {});
    put("unsupported-conv", conv.bytes());
    t::OnnxBuilder tied;
    tied.node("Gemm", "a", {"x", "W"}, "h")
        .node("Gemm", "b", {"h", "W"}, "y")
        .initializer("W", {2, 2}, {1, 2, 3, 4})
        .input("x", {-1, 2})
        .output("y", {});
    put("tied-weights", tied.bytes());
    t::OnnxBuilder short_data;
    short_data.node("Gemm", "g", {"x", "W"}, "y")
        .initializer("W", {2, 3}, {1, 2})
        .input("x", {-1, 2})
        .output("y", {});
    put("short-data", short_data.bytes());
    const std::string good = t::pytorch_like(2, 3, 1, "Relu", w1, b1, w2, b2).bytes();
    put("truncated", good.substr(0, good.size() / 2));
}

}  // namespace descent::fuzz
