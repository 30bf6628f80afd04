// ONNX import (io/onnx_import.hpp): descent's own files come back bit for bit; the graphs other
// exporters write (PyTorch's transposed Gemm, MatMul + Add, Flatten, Identity, the numbers in
// every storage) give the weights they mean; everything outside the subset is refused naming
// the node and its op; a broken file is refused at any byte; a failed import changes nothing.
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/sigmoid.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/io/onnx_export.hpp>
#include <descent/io/onnx_import.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <string>
#include <vector>

#include "file_support.hpp"
#include "onnx/onnx_builder.hpp"
#include "support.hpp"

// The heap's peak, for the test that import allocates in proportion to what a file holds: the C
// allocation functions of this test program are replaced, as glibc allows (tests/test_allocation.cpp
// counts calls the same way), to keep the bytes live and their peak. Not under ASan, which owns them.
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
#define DESCENT_TEST_MEASURES_HEAP 1
#include <malloc.h>

#include <atomic>
#include <cerrno>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {
std::atomic<long long> heap_live{0}, heap_peak{0};
void* grown(void* p) {
    if (p != nullptr) {
        const long long now = heap_live += static_cast<long long>(malloc_usable_size(p));
        long long peak = heap_peak.load();
        while (now > peak && !heap_peak.compare_exchange_weak(peak, now)) {
        }
    }
    return p;
}
void shrunk(void* p) {
    if (p != nullptr) heap_live -= static_cast<long long>(malloc_usable_size(p));
}
}  // namespace

extern "C" {
void* malloc(std::size_t size) {
    return grown(__libc_malloc(size));
}
void* calloc(std::size_t n, std::size_t size) {
    return grown(__libc_calloc(n, size));
}
void* realloc(void* p, std::size_t size) {
    shrunk(p);
    void* q = __libc_realloc(p, size);
    return grown(q != nullptr || size == 0 ? q : p);
}
void free(void* p) {
    shrunk(p);
    __libc_free(p);
}
void* memalign(std::size_t alignment, std::size_t size) {
    return grown(__libc_memalign(alignment, size));
}
void* aligned_alloc(std::size_t alignment, std::size_t size) {
    return grown(__libc_memalign(alignment, size));
}
int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
    void* p = __libc_memalign(alignment, size);
    if (p == nullptr) return ENOMEM;
    *out = grown(p);
    return 0;
}
}

namespace {
// The most heap f() held at once beyond what was live before it.
template <class F>
long long peak_heap_of(F&& f) {
    const long long before = heap_live.load();
    heap_peak = before;
    f();
    return heap_peak.load() - before;
}
}  // namespace
#endif

using Catch::Matchers::Contains;
using descent::Architecture;
using descent::Dense;
using descent::Identity;
using descent::Mlp;
using descent::OnnxModel;
using descent::Relu;
using descent::Sigmoid;
using descent::Tanh;
using descent::test::float_attr;
using descent::test::int_attr;
using descent::test::message_of;
using descent::test::OnnxBuilder;
using descent::test::pytorch_like;
using descent::test::storage;
using descent::test::TempDir;
namespace onnx = descent::detail::onnx;

namespace {

OnnxModel decode(const std::string& bytes, const descent::OnnxImportOptions& options = {}) {
    return onnx::decode_onnx(bytes, "m.onnx", options);
}
template <class E = descent::onnx_error>
std::string refusal(const std::string& bytes) {
    return message_of<E>([&] { decode(bytes); });
}

// W1 = [[1, 2], [3, 4], [5, 6]] (3 x 2: 2 inputs, 3 hidden), b1 = [0.5, -0.5, 0], W2 = [[1, -1, 2]], b2 =
// [0.25].
const std::vector<double> w1_rows{1, 2, 3, 4, 5, 6}, b1{0.5, -0.5, 0}, w2_rows{1, -1, 2}, b2{0.25};
// θ in descent's layout: W(1) column-major, b(1), W(2), b(2).
const std::vector<double> theta{1, 3, 5, 2, 4, 6, 0.5, -0.5, 0, 1, -1, 2, 0.25};

std::vector<double> as_vector(const Eigen::VectorXd& v) {
    return {v.data(), v.data() + v.size()};
}

}  // namespace

TEMPLATE_TEST_CASE("descent's own files come back: every activation and head, θ bit for bit",
                   "[onnx][import]", float, double) {
    Mlp<Dense<Relu, TestType>, Dense<Tanh, TestType>, Dense<Sigmoid, TestType>, Dense<Identity, TestType>,
        Dense<Identity, TestType>>
        net({6, 5, 4, 3, 4, 3}, 5);
    TempDir dir;
    descent::export_onnx(net, dir / "net.onnx");
    const OnnxModel model = descent::import_onnx(dir / "net.onnx");
    CHECK(model.architecture == net.architecture());
    CHECK(model.parameters.template cast<TestType>() == net.parameters());

    decltype(net) other({6, 5, 4, 3, 4, 3}, 99);
    descent::import_onnx_into(other, dir / "net.onnx");
    CHECK(other.parameters() == net.parameters());

    for (const std::string head : {"sigmoid_cross_entropy", "squared_error"}) {
        Architecture a = net.architecture();
        a.head = head;
        const auto theta_net = net.parameters();
        const std::string bytes =
            onnx::encode_onnx<TestType>(a, std::span(theta_net.data(), theta_net.size()));
        const OnnxModel m = decode(bytes);
        CHECK(m.architecture == a);
        CHECK(m.parameters.template cast<TestType>() == net.parameters());
    }
}

TEST_CASE("PyTorch's Gemm with transB = 1 and [out, in] weights gives W(k) transposed into descent's layout",
          "[onnx][import]") {
    const OnnxModel m = decode(pytorch_like(2, 3, 1, "Relu", w1_rows, b1, w2_rows, b2).bytes());
    CHECK(m.architecture.layers ==
          std::vector<descent::LayerSpec>{{"dense", "relu", 2, 3}, {"dense", "identity", 3, 1}});
    CHECK(m.architecture.head == "softmax_cross_entropy");  // a graph ending at a(L+1): the default
    CHECK(m.architecture.scalar == "float");
    CHECK(as_vector(m.parameters) == theta);

    // The same network computes by hand: x = (1, 1): a(1) = (3.5, 6.5, 11), h(1) = a(1), a(2) = 3.5 - 6.5 +
    // 22 + 0.25.
    Mlp<Dense<Relu, double>, Dense<Identity, double>> net({2, 3, 1});
    net.parameters() = m.parameters;
    Eigen::MatrixXd x(2, 1);
    x << 1, 1;
    CHECK(net.forward(x)(0, 0) == 19.25);

    descent::OnnxImportOptions squared;
    squared.logits_head = "squared_error";
    CHECK(
        decode(pytorch_like(2, 3, 1, "Tanh", w1_rows, b1, w2_rows, b2).bytes(), squared).architecture.head ==
        "squared_error");
    squared.logits_head = "hinge";
    CHECK_THROWS_AS(decode(pytorch_like(2, 3, 1, "Tanh", w1_rows, b1, w2_rows, b2).bytes(), squared),
                    descent::argument_error);
}

TEST_CASE("MatMul + Add, Flatten, Identity, Gemm's alpha and beta, and every storage of the numbers",
          "[onnx][import]") {
    // x [B, 1, 2] -> Flatten -> MatMul(W [2, 3]) -> Add(b) -> Sigmoid -> Identity -> Gemm(no C) -> Add(b as
    // [1, 1])
    // -> Softmax (opset 9: no axis, the default 1).
    const std::vector<double> w1_in_out{1, 3, 5, 2, 4, 6};  // [in, out] row-major: descent's bytes already
    for (const auto how : {storage::raw, storage::packed, storage::unpacked}) {
        OnnxBuilder g;
        g.opset = 9;
        g.node("Flatten", "flat", {"x"}, "f", {int_attr("axis", 1)})
            .node("MatMul", "mm", {"f", "W"}, "m")
            .node("Add", "add", {"B", "m"}, "a1")  // the bias first: Add is commutative
            .node("Sigmoid", "", {"a1"}, "h1")
            .node("Identity", "id", {"h1"}, "h1b")
            .node("Gemm", "g", {"h1b", "W2"}, "g2", {float_attr("alpha", 2), int_attr("transB", 1)})
            .node("Add", "add2", {"g2", "B2"}, "logits")
            .node("Softmax", "sm", {"logits"}, "p")
            .initializer("W", {2, 3}, w1_in_out, how)
            .initializer("B", {3}, b1, how)
            .initializer("W2", {1, 3}, w2_rows, how)
            .initializer("B2", {1, 1}, b2, how)
            .input("x", {-1, 1, 2})
            .output("p", {-1, 1})
            .output("logits", {-1, 1});
        const OnnxModel m = decode(g.bytes());
        CHECK(m.architecture.layers ==
              std::vector<descent::LayerSpec>{{"dense", "sigmoid", 2, 3}, {"dense", "identity", 3, 1}});
        CHECK(m.architecture.head == "softmax_cross_entropy");
        std::vector<double> expected = theta;
        for (int i = 9; i < 12; ++i) expected[static_cast<std::size_t>(i)] *= 2;  // alpha folded into W(2)
        CHECK(as_vector(m.parameters) == expected);
    }
}

TEST_CASE("double models, old exporters' initializers listed as inputs, a broadcast bias, a final Sigmoid",
          "[onnx][import]") {
    OnnxBuilder g;
    g.element_type = onnx::type_double;
    g.ir_version = 3;
    g.opset = 7;
    g.node("Gemm", "g1", {"x", "W1", "b1"}, "a1", {int_attr("transB", 1), float_attr("beta", 0.5f)})
        .node("Tanh", "t", {"a1"}, "h1")
        .node("Gemm", "g2", {"h1", "W2", "b2"}, "a2", {int_attr("transB", 1)})
        .node("Sigmoid", "s", {"a2"}, "p")
        .initializer("W1", {3, 2}, w1_rows, storage::unpacked)
        .initializer("b1", {}, {0.125}, storage::packed)  // one value for every unit, times beta
        .initializer("W2", {1, 3}, w2_rows)
        .initializer("b2", {1}, b2)
        .input("x", {-1, 2})
        .input("W1", {3, 2})
        .input("b1", {})
        .output("p", {-1, 1});
    const OnnxModel m = decode(g.bytes());
    CHECK(m.architecture.layers ==
          std::vector<descent::LayerSpec>{{"dense", "tanh", 2, 3}, {"dense", "identity", 3, 1}});
    CHECK(m.architecture.head == "sigmoid_cross_entropy");
    CHECK(m.architecture.scalar == "double");
    CHECK(as_vector(m.parameters) ==
          std::vector<double>{1, 3, 5, 2, 4, 6, 0.0625, 0.0625, 0.0625, 1, -1, 2, 0.25});
}

TEST_CASE("anything outside the subset is refused, naming the node and its op", "[onnx][import]") {
    const auto base = [] { return pytorch_like(2, 3, 1, "Relu", w1_rows, b1, w2_rows, b2); };
    using U = descent::unsupported_onnx_error;

    OnnxBuilder conv;
    conv.node("Conv", "/0/Conv", {"x", "W"}, "y")
        .initializer("W", {1, 1}, {1})
        .input("x", {-1, 2})
        .output("y", {});
    CHECK(refusal<U>(conv.bytes()) ==
          "m.onnx: node 1 \"/0/Conv\" (Conv): op Conv is outside the subset descent reads (Gemm, MatMul, "
          "Add, Relu, "
          "Tanh, Sigmoid, Softmax, Identity, Flatten)");

    OnnxBuilder relu_end = pytorch_like(2, 3, 1, "Relu", w1_rows, b1, w2_rows, b2);
    relu_end.node("Relu", "r", {"y"}, "z").output("z", {});
    CHECK(refusal<U>(relu_end.bytes()) ==
          "m.onnx: the graph ends in Relu after its last layer; descent's output heads are softmax, sigmoid "
          "or none");

    OnnxBuilder twice = base();
    twice.node("Tanh", "/3/Tanh", {"y"}, "t").node("Relu", "/4/Relu", {"t"}, "u");
    CHECK(refusal<U>(twice.bytes()) ==
          "m.onnx: node 5 \"/4/Relu\" (Relu): after another activation; descent's layers have one");

    OnnxBuilder branch = base();
    branch.node("Relu", "side", {"/0/Gemm_output_0"}, "z");
    CHECK(refusal<U>(branch.bytes()) ==
          "m.onnx: node 4 \"side\" (Relu): takes \"/0/Gemm_output_0\", not \"y\", the tensor the chain has "
          "reached: "
          "descent reads chains of layers");

    OnnxBuilder tied;
    tied.node("Gemm", "a", {"x", "W"}, "h")
        .node("Gemm", "b", {"h", "W"}, "y")
        .initializer("W", {2, 2}, {1, 2, 3, 4})
        .input("x", {-1, 2})
        .output("y", {-1, 2});
    CHECK(refusal<U>(tied.bytes()) ==
          "m.onnx: node 2 \"b\" (Gemm): W \"W\" is used by two layers; descent ties no weights");

    OnnxBuilder trans_a;
    trans_a.node("Gemm", "g", {"x", "W"}, "y", {int_attr("transA", 1)})
        .initializer("W", {2, 2}, {1, 2, 3, 4})
        .input("x", {-1, 2})
        .output("y", {});
    CHECK(refusal<U>(trans_a.bytes()) == "m.onnx: node 1 \"g\" (Gemm): transA = 1: the samples must be rows");

    OnnxBuilder axis0 = base();
    axis0.node("Softmax", "sm", {"y"}, "p", {int_attr("axis", 0)}).output("p", {});
    CHECK_THAT(refusal<U>(axis0.bytes()), Contains("node 4 \"sm\" (Softmax): axis 0"));

    OnnxBuilder custom;
    custom.node("Gemm", "g", {"x", "W"}, "y", {}, "com.example")
        .initializer("W", {2, 2}, {1, 2, 3, 4})
        .input("x", {-1, 2})
        .output("y", {});
    CHECK_THAT(refusal<U>(custom.bytes()), Contains("node 1 \"g\" (Gemm): domain \"com.example\""));

    OnnxBuilder computed;
    computed.node("Gemm", "g", {"x", "W"}, "y").input("x", {-1, 2}).input("W", {2, 2}).output("y", {});
    CHECK_THAT(refusal<U>(computed.bytes()), Contains("the graph has inputs \"x\" and \"W\""));

    OnnxBuilder half;
    half.node("Gemm", "g", {"x", "W"}, "y")
        .initializer("W", {2, 2}, {1, 2, 3, 4}, storage::raw, 10)
        .input("x", {-1, 2})
        .output("y", {});
    CHECK(refusal<U>(half.bytes()) ==
          "m.onnx: initializer \"W\" has element type 10; descent reads float (1) and double (11)");

    OnnxBuilder old = base();
    old.opset = 6;
    CHECK(refusal<U>(old.bytes()) == "m.onnx: opset 6 is outside what descent reads (7 to 22)");
    OnnxBuilder future = base();
    future.ir_version = 11;
    CHECK(refusal<U>(future.bytes()) == "m.onnx: IR version 11 is outside what descent reads (3 to 10)");

    OnnxBuilder no_layer;
    no_layer.node("Relu", "r", {"x"}, "y").input("x", {-1, 2}).output("y", {});
    CHECK_THAT(refusal<U>(no_layer.bytes()), Contains("before the first layer"));

    OnnxBuilder rank3;
    rank3.node("Gemm", "g", {"x", "W"}, "y")
        .initializer("W", {2, 2}, {1, 2, 3, 4})
        .input("x", {-1, 1, 2})
        .output("y", {});
    CHECK_THAT(refusal<U>(rank3.bytes()), Contains("no Flatten(axis 1) before the first layer"));

    // An external-data initializer: data_location = EXTERNAL.
    descent::detail::protobuf::writer t;
    t.int64(onnx::tensor::dims, 2);
    t.int64(onnx::tensor::dims, 2);
    t.varint(onnx::tensor::data_type, onnx::type_float);
    t.bytes(onnx::tensor::name, "W");
    t.varint(onnx::tensor::data_location, 1);
    OnnxBuilder external;
    external.node("Gemm", "g", {"x", "W"}, "y").raw_initializer(t.str()).input("x", {-1, 2}).output("y", {});
    CHECK_THAT(refusal<U>(external.bytes()),
               Contains("initializer \"W\" keeps its data in an external file"));
}

TEST_CASE("a file that is no valid ONNX is refused at any byte, with the byte or the part",
          "[onnx][import]") {
    using M = descent::malformed_onnx_error;
    CHECK(refusal<M>("") == "m.onnx: malformed ONNX file: the file is empty");
    CHECK(refusal<M>("PK\3\4 a zip file") ==
          "m.onnx: malformed ONNX file: broken protobuf wire format: field number 0 at byte 2");

    const std::string good = pytorch_like(2, 3, 1, "Relu", w1_rows, b1, w2_rows, b2).bytes();
    // Every prefix and every single-byte change: an onnx_error or a model, never a crash or another type.
    for (std::size_t n = 0; n < good.size(); ++n) {
        CHECK_THROWS_AS(decode(good.substr(0, n)), descent::onnx_error);
        for (const int flip : {0x01, 0x80, 0xFF}) {
            std::string bad = good;
            bad[n] = static_cast<char>(bad[n] ^ flip);
            try {
                decode(bad);
            } catch (const descent::onnx_error&) {
            }
        }
    }

    OnnxBuilder short_data;
    short_data.node("Gemm", "g", {"x", "W"}, "y")
        .initializer("W", {2, 3}, {1, 2, 3, 4})
        .input("x", {-1, 2})
        .output("y", {});
    CHECK(refusal<M>(short_data.bytes()) ==
          "m.onnx: malformed ONNX file: initializer \"W\": dims [2, 3] need 6 elements, the data holds 16 "
          "bytes");

    // Dims whose product no file could hold are refused before anything is allocated for them.
    OnnxBuilder huge;
    huge.node("Gemm", "g", {"x", "W"}, "y")
        .initializer("W", {1ll << 40, 1ll << 40}, {1})
        .input("x", {-1, 1ll << 40})
        .output("y", {});
    CHECK(
        refusal<M>(huge.bytes()) ==
        "m.onnx: malformed ONNX file: initializer \"W\": dimensions claim more elements than the file holds");

    OnnxBuilder chain;
    chain.node("Gemm", "g", {"x", "W"}, "y")
        .initializer("W", {3, 2}, {1, 2, 3, 4, 5, 6})
        .input("x", {-1, 2})
        .output("y", {});
    CHECK(refusal<M>(chain.bytes()) ==
          "m.onnx: malformed ONNX file: node 1 \"g\" (Gemm): W \"W\" takes 3 inputs, \"x\" has 2");

    OnnxBuilder nan;
    nan.node("Gemm", "g", {"x", "W"}, "y")
        .initializer("W", {1, 2}, {1, std::nan("")})
        .input("x", {-1, 1})
        .output("y", {});
    CHECK(refusal<M>(nan.bytes()) == "m.onnx: malformed ONNX file: initializer \"W\" holds NaN at element 1");

    OnnxBuilder mixed;
    mixed.node("Gemm", "g", {"x", "W"}, "y")
        .initializer("W", {1, 1}, {1}, storage::raw, onnx::type_double)
        .input("x", {-1, 1})
        .output("y", {});
    CHECK(refusal<M>(mixed.bytes()) ==
          "m.onnx: malformed ONNX file: initializer \"W\" has element type 11 but the input has 1");

    OnnxBuilder overflow;
    overflow.node("Gemm", "g", {"x", "W"}, "y", {float_attr("alpha", 1e30f)})
        .initializer("W", {1, 1}, {1e30})
        .input("x", {-1, 1})
        .output("y", {});
    CHECK(refusal<M>(overflow.bytes()) ==
          "m.onnx: malformed ONNX file: node \"g\": alpha times its W leaves the range of float");

    descent::detail::protobuf::writer no_graph;
    no_graph.int64(onnx::model::ir_version, 7);
    CHECK(refusal<M>(no_graph.str()) ==
          "m.onnx: malformed ONNX file: no opset import for the default domain (\"\" or ai.onnx)");
}

TEST_CASE("import_onnx_into refuses another architecture or scalar type and leaves the network as it was",
          "[onnx][import]") {
    TempDir dir;
    Mlp<Dense<Relu>, Dense<Identity>> source({2, 3, 2}, 1);
    descent::export_onnx(source, dir / "relu.onnx");

    Mlp<Dense<Tanh>, Dense<Identity>> tanh_net({2, 3, 2}, 2);
    const auto before = tanh_net.parameters().eval();
    CHECK(
        message_of<descent::onnx_architecture_mismatch_error>(
            [&] { descent::import_onnx_into(tanh_net, dir / "relu.onnx"); }) ==
        (dir / "relu.onnx").string() +
            ": the file is 2-3:relu-2 (softmax_cross_entropy, float), this network is "
            "2-3:tanh-2 (softmax_cross_entropy, float)");
    CHECK(tanh_net.parameters() == before);

    Mlp<Dense<Relu, double>, Dense<Identity, double>> double_net({2, 3, 2}, 3);
    const auto before_double = double_net.parameters().eval();
    CHECK(message_of<descent::onnx_scalar_type_mismatch_error>(
              [&] { descent::import_onnx_into(double_net, dir / "relu.onnx"); }) ==
          (dir / "relu.onnx").string() +
              ": the file holds float weights, this network is double (import it into Net::rebind<float>)");
    CHECK(double_net.parameters() == before_double);

    const auto broken = dir.write("broken.onnx", descent::test::contents(dir / "relu.onnx").substr(0, 40));
    Mlp<Dense<Relu>, Dense<Identity>> same({2, 3, 2}, 4);
    const auto before_same = same.parameters().eval();
    CHECK_THROWS_AS(descent::import_onnx_into(same, broken), descent::malformed_onnx_error);
    CHECK(same.parameters() == before_same);
    CHECK_THROWS_AS(descent::import_onnx(dir / "missing.onnx"), descent::io_error);
}

TEST_CASE("import allocates a few times what a file holds, never what its lengths and dims claim",
          "[onnx][import]") {
#ifndef DESCENT_TEST_MEASURES_HEAP
    WARN("the heap is not measured in this build (not glibc, or under ASan): skipped");
#else
    const auto peak_of = [](const std::string& bytes) {
        return peak_heap_of([&] {
            try {
                decode(bytes);
            } catch (const descent::onnx_error&) {
            }
        });
    };
    // A real model, 784-64-10 as PyTorch writes it (203 KB of float weights): θ in double is 2x.
    std::vector<double> w1(784 * 64, 0.01), b1(64, 0.5), w2(64 * 10, -0.01), b2(10, 0.25);
    const std::string real = pytorch_like(784, 64, 10, "Relu", w1, b1, w2, b2).bytes();
    const auto size = static_cast<long long>(real.size());
    CHECK(peak_of(real) <= 3 * size + 65536);

    // 20000 tiny initializers, 7 bytes each: the index of them is 24 bytes each.
    OnnxBuilder many;
    many.node("Gemm", "g", {"x", "W"}, "y").initializer("W", {1, 1}, {1}).input("x", {-1, 1}).output("y", {});
    descent::detail::protobuf::writer tiny;
    for (int i = 0; i < 20000; ++i) {
        descent::detail::protobuf::writer t;
        t.bytes(onnx::tensor::name,
                std::string{static_cast<char>('a' + i % 26), static_cast<char>('a' + i / 26 % 26),
                            static_cast<char>('a' + i / 676 % 26)});
        many.raw_initializer(t.str());
    }
    const std::string degenerate = many.bytes();
    CHECK(peak_of(degenerate) <= 6 * static_cast<long long>(degenerate.size()) + 65536);

    // Claims: a length of 2^40 bytes, and dims of 2^40 x 2^40 with 4 bytes of data.
    CHECK(peak_of(std::string("\x3A\x80\x80\x80\x80\x80\x20", 7)) <= 65536);
    OnnxBuilder huge;
    huge.node("Gemm", "g", {"x", "W"}, "y")
        .initializer("W", {1ll << 40, 1ll << 40}, {1})
        .input("x", {-1, 1ll << 40})
        .output("y", {});
    CHECK(peak_of(huge.bytes()) <= 65536);
#endif
}
