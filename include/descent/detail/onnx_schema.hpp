#pragma once
// The parts of ONNX's schema (onnx/onnx.proto, IR version 7 and later) that descent's
// export and import use: message field numbers and enum values, named as in onnx.proto,
// so that the writer and the reader cannot disagree on a number.
#include <cstdint>

namespace descent::detail::onnx {

// What descent writes: IR version 7 with opset 13 is what ONNX 1.8 (2020) introduced and
// what every reader since accepts (Debian 12's onnx 1.12 checker, ONNX Runtime 1.20).
// Opset 13 is the first whose Softmax normalises along one axis rather than flattening.
inline constexpr std::int64_t ir_version = 7;
inline constexpr std::int64_t opset = 13;

// What descent reads: the operators of the subset mean the same from opset 7 (Gemm's
// broadcasting attribute is gone) up to 22; IR 3 is the first with opset imports.
inline constexpr std::int64_t oldest_opset = 7;
inline constexpr std::int64_t newest_opset = 22;
inline constexpr std::int64_t oldest_ir_version = 3;
inline constexpr std::int64_t newest_ir_version = 10;

namespace model {  // ModelProto
inline constexpr std::uint32_t ir_version = 1, producer_name = 2, producer_version = 3, domain = 4,
                               model_version = 5, doc_string = 6, graph = 7, opset_import = 8,
                               metadata_props = 14;
}
namespace string_entry {  // StringStringEntryProto
inline constexpr std::uint32_t key = 1, value = 2;
}
// descent's own metadata: the head, which a graph ending at a(L+1) (squared_error) cannot show.
inline constexpr const char* head_metadata = "descent.head";
namespace opset_id {  // OperatorSetIdProto
inline constexpr std::uint32_t domain = 1, version = 2;
}
namespace graph {  // GraphProto
inline constexpr std::uint32_t node = 1, name = 2, initializer = 5, doc_string = 10, input = 11, output = 12,
                               value_info = 13, sparse_initializer = 15;
}
namespace node {  // NodeProto
inline constexpr std::uint32_t input = 1, output = 2, name = 3, op_type = 4, attribute = 5, doc_string = 6,
                               domain = 7;
}
namespace attribute {  // AttributeProto
inline constexpr std::uint32_t name = 1, f = 2, i = 3, s = 4, t = 5, g = 6, floats = 7, ints = 8, type = 20;
// AttributeProto.AttributeType
inline constexpr std::uint64_t type_float = 1, type_int = 2;
}  // namespace attribute
namespace value_info {  // ValueInfoProto
inline constexpr std::uint32_t name = 1, type = 2, doc_string = 3;
}
namespace type {  // TypeProto
inline constexpr std::uint32_t tensor_type = 1;
}
namespace tensor_type {  // TypeProto.Tensor
inline constexpr std::uint32_t elem_type = 1, shape = 2;
}
namespace shape {  // TensorShapeProto
inline constexpr std::uint32_t dim = 1;
}
namespace dimension {  // TensorShapeProto.Dimension
inline constexpr std::uint32_t dim_value = 1, dim_param = 2;
}
namespace tensor {  // TensorProto
inline constexpr std::uint32_t dims = 1, data_type = 2, segment = 3, float_data = 4, name = 8, raw_data = 9,
                               double_data = 10, doc_string = 12, external_data = 13, data_location = 14;
}
// TensorProto.DataType
inline constexpr std::uint64_t type_float = 1, type_double = 11;

}  // namespace descent::detail::onnx
