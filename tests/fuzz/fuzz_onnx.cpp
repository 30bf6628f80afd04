// libFuzzer harness of the ONNX importer (io/onnx_import.hpp): import_onnx on the bytes as a
// file, and import_onnx_into a fixed small network.
//
// Promised: an onnx_error, with the network unchanged (the strong guarantee), or a model that
// keeps its contract: θ of Σ H_k (H_(k-1) + 1) finite values (within float's range for a float
// file) for layers that chain, a head
// descent knows, an output layer of identity, and an export of it that imports back to the same
// architecture and θ. Never another exception, a crash, a leak, a hang, or an allocation sized
// by a length or dims the file claims rather than the bytes it holds (-malloc_limit_mb).
#include <cstdint>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/io/onnx_export.hpp>
#include <descent/io/onnx_import.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <limits>
#include <string>
#include <vector>

#include "fuzz_support.hpp"

namespace {

using Small = descent::Mlp<descent::Dense<descent::Relu, float>, descent::Dense<descent::Identity, float>>;

void check_model(const descent::OnnxModel& model) {
    namespace onnx = descent::detail::onnx;
    const auto& a = model.architecture;
    DESCENT_FUZZ_CHECK(!a.layers.empty());
    DESCENT_FUZZ_CHECK(onnx::is_head(a.head));
    DESCENT_FUZZ_CHECK(a.scalar == "float" || a.scalar == "double");
    DESCENT_FUZZ_CHECK(a.layers.back().activation == "identity");
    for (std::size_t k = 0; k < a.layers.size(); ++k) {
        DESCENT_FUZZ_CHECK(a.layers[k].kind == "dense" && onnx::is_activation(a.layers[k].activation));
        DESCENT_FUZZ_CHECK(a.layers[k].inputs >= 1 && a.layers[k].outputs >= 1);
        if (k > 0) DESCENT_FUZZ_CHECK(a.layers[k].inputs == a.layers[k - 1].outputs);
    }
    DESCENT_FUZZ_CHECK(model.parameters.size() == onnx::parameter_count(a));
    DESCENT_FUZZ_CHECK(model.parameters.allFinite());

    // Export and import back: the same model. A float file's θ fits in float (Gemm's alpha and
    // beta are folded in in double, so compare after the cast the export makes).
    std::string bytes;
    Eigen::VectorXd theta = model.parameters;
    if (a.scalar == "float") {
        DESCENT_FUZZ_CHECK(model.parameters.cwiseAbs().maxCoeff() <= std::numeric_limits<float>::max());
        const Eigen::VectorXf narrow = model.parameters.cast<float>();
        theta = narrow.cast<double>();
        bytes = onnx::encode_onnx<float>(a, std::span<const float>(narrow.data(), narrow.size()));
    } else {
        bytes = onnx::encode_onnx<double>(a, std::span<const double>(theta.data(), theta.size()));
    }
    const auto back = onnx::decode_onnx(bytes, "re-exported");
    DESCENT_FUZZ_CHECK(back.architecture == a);
    DESCENT_FUZZ_CHECK(back.parameters == theta);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static descent::fuzz::MemoryFile file;
    static Small small({3, 4, 2}, 7);
    const std::string& path = file.hold(descent::fuzz::as_text(data, size));
    try {
        check_model(descent::import_onnx(path));
    } catch (const descent::onnx_error&) {
    }
    const Small::Vector before = small.parameters();
    try {
        descent::import_onnx_into(small, path);
    } catch (const descent::onnx_error&) {
        DESCENT_FUZZ_CHECK(small.parameters() == before);  // bit for bit
    }
    small.parameters() = before;
    return 0;
}
