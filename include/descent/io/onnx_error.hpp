#pragma once
// What ONNX export and import (io/onnx_export.hpp, io/onnx_import.hpp) throw besides io_error.
// One class per cause, because each asks for a different fix: a damaged file, a model outside
// what descent can represent, a network of another shape or scalar type.
#include "../error.hpp"

namespace descent {

class onnx_error : public error {
public:
    using error::error;
};

// Not a well-formed ONNX file: the protobuf wire format is broken (truncated, a length beyond
// the end), a required part is missing (no graph), or the parts contradict each other (a
// weight whose data does not fill its shape, layers whose sizes do not chain). The message
// names the file and the byte offset or the part.
class malformed_onnx_error : public onnx_error {
public:
    using onnx_error::onnx_error;
};

// A sound ONNX model that is no descent network: an operator outside the feed-forward subset
// (Gemm, MatMul, Add, Relu, Tanh, Sigmoid, Softmax, Identity, Flatten), a graph that is not
// a chain, weights computed in the graph, another element type than float or double, an
// opset or IR version outside what the subset means. The message names the node and its op.
// Export throws it too, for a network whose layer kind, activation or head ONNX cannot say.
class unsupported_onnx_error : public onnx_error {
public:
    using onnx_error::onnx_error;
};

// import_onnx_into: the file's layers or head are not the network's (both are named).
class onnx_architecture_mismatch_error : public onnx_error {
public:
    using onnx_error::onnx_error;
};

// import_onnx_into: the file's element type (float, double) is not the network's scalar.
class onnx_scalar_type_mismatch_error : public onnx_error {
public:
    using onnx_error::onnx_error;
};

}  // namespace descent
