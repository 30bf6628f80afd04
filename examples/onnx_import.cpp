// A model from elsewhere, evaluated by descent: import an ONNX file (PyTorch's torch.onnx.export
// of an nn.Sequential of Linear and ReLU/Tanh/Sigmoid, or descent's own export_onnx) and measure
// its accuracy on Fashion-MNIST's 10000 test images.
//
//   onnx_import MODEL.onnx [--data DIR]
//
// The last line printed is test_accuracy=<four decimals>. A file outside the subset descent reads
// ends it with one line naming the node and its op, and a non-zero status.
#include <cstdio>
#include <descent/descent.hpp>
#include <descent/io/onnx_import.hpp>
#include <string>

namespace {

using namespace descent;

// import_onnx gives plain data: the architecture (layers, activations, head) and θ in descent's
// layout, W(1) column-major H_1 x H_0, b(1), W(2), ... A Network (network.hpp) is built from the
// architecture at run time, whatever its depth and activations. (load_onnx_network<float>(file)
// does the same in one call, for a file of float weights.)
double evaluate(const OnnxModel& model, const Dataset<float>& test) {
    Architecture a = model.architecture;
    a.scalar = "float";  // a double file's weights are narrowed to float below
    Network<float> net(a);
    net.parameters() = model.parameters.cast<float>();
    return net.accuracy(test.x, test.y);  // argmax_c f(x)_c = argmax_c a(L+1)_c under every head
}

}  // namespace

int main(int argc, char** argv) {
    std::string data = "/usr/share/datasets/fashion-mnist";
    std::string file;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--data" && i + 1 < argc)
            data = argv[++i];
        else if (arg == "--help" || arg == "-h" || !file.empty()) {
            std::printf(
                "usage: onnx_import MODEL.onnx [--data DIR]\n"
                "Imports an ONNX model (a PyTorch nn.Sequential of Linear and ReLU/Tanh/Sigmoid, or "
                "descent's\n"
                "export) and prints its accuracy on Fashion-MNIST's test set: test_accuracy=<four "
                "decimals>.\n");
            return arg == "--help" || arg == "-h" ? 0 : 2;
        } else
            file = arg;
    }
    if (file.empty()) {
        std::fprintf(stderr, "onnx_import: no model file (--help for usage)\n");
        return 2;
    }
    try {
        // Throws unsupported_onnx_error naming the node and op for anything outside the subset,
        // malformed_onnx_error for a damaged file, io_error for a missing one.
        const OnnxModel model = import_onnx(file);
        std::printf("%s: %s, %lld parameters\n", file.c_str(),
                    descent::describe(model.architecture).c_str(),
                    static_cast<long long>(model.parameters.size()));
        const auto& layers = model.architecture.layers;
        if (layers.front().inputs != 784 || layers.back().outputs != 10)
            throw argument_error("onnx_import: the model maps " + std::to_string(layers.front().inputs) +
                                 " inputs to " + std::to_string(layers.back().outputs) +
                                 " outputs; Fashion-MNIST needs 784 pixels to 10 classes");
        const auto fashion = load_fashion_mnist<float>(data);
        // The model takes raw pixels in [0, 1]: descent's exports fold their standardisation into
        // W(1), b(1), and PyTorch models take what they were trained on.
        std::printf("test_accuracy=%.4f\n", evaluate(model, fashion.test));
        return 0;
    } catch (const error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
}
