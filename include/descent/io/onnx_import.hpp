#pragma once
// Feed-forward ONNX models, as PyTorch and descent write them, read into descent's plain data:
//
//   auto model = descent::import_onnx("mlp.onnx");      // Architecture + θ (descent's layout)
//   descent::import_onnx_into(net, "mlp.onnx");         // θ into a network of that architecture
//   auto net = descent::load_onnx_network("mlp.onnx");  // a Network<float> built from the file
//
// The subset read is a chain: the one graph input, then per layer k a Gemm (or a MatMul and an
// Add) with weights from the file's initializers, then optionally Relu, Tanh or Sigmoid; at
// the end optionally Softmax (axis 1) or Sigmoid as the head. Identity nodes, and Flatten(axis 1)
// (which on a [B, 1, 28, 28] input is what gives the [B, 784] rows), pass the chain on.
// torch.onnx.export of nn.Sequential(Linear, ReLU, ..., Linear) writes exactly this:
// Gemm(x, W, b) with transB = 1, W as PyTorch's [out, in], per Linear.
//
// Heads: a chain ending in Softmax is softmax_cross_entropy, in Sigmoid after the last dense
// layer sigmoid_cross_entropy; a chain ending at a dense layer outputs a(L+1) itself (PyTorch's
// classifiers leave the softmax to nn.CrossEntropyLoss), and takes OnnxImportOptions::logits_head,
// softmax_cross_entropy unless said otherwise. Besides f(x) the graph may output a(L+1) (descent's
// own files do, as "logits").
//
// Everything else is refused with unsupported_onnx_error naming the node and its op; a file
// that is no valid ONNX with malformed_onnx_error naming the byte or the part. Hostile files:
// every length is checked against the bytes that remain before it is used, and nothing is
// allocated by a size the file claims, only by what it holds. What is allocated: θ (8 bytes a
// weight, 2x the file's float weights), about 24 bytes an initializer and 80 bytes a layer;
// each costs the file at least 5 and 30 bytes, so the total is a few times the file's size.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../architecture.hpp"
#include "../detail/file.hpp"
#include "../detail/onnx_schema.hpp"
#include "../detail/protobuf.hpp"
#include "../error.hpp"
#include "../network.hpp"
#include "onnx_error.hpp"
#include "onnx_export.hpp"

namespace descent {

// A network read from an ONNX file, as plain data: what it is, and θ in descent's layout
// (W(1) column-major H_1 x H_0, b(1), W(2), b(2), ...). Double holds a float file's weights
// exactly; architecture.scalar says which the file held.
struct OnnxModel {
    Architecture architecture;
    Eigen::VectorXd parameters;
};

struct OnnxImportOptions {
    // The head of a model whose graph ends at a dense layer (its output is a(L+1)):
    // "softmax_cross_entropy", "sigmoid_cross_entropy" or "squared_error".
    std::string logits_head = "softmax_cross_entropy";
};

namespace detail::onnx {

using protobuf::field;
using protobuf::reader;
using protobuf::wire_type;

// A name from the file as a message shows it: quoted, at most 60 bytes, unprintable bytes as '?'.
inline std::string printable(std::string_view text) {
    std::string p;
    for (std::size_t i = 0; i < text.size() && i < 60; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        p += c >= 0x20 && c < 0x7F ? static_cast<char>(c) : '?';
    }
    return text.size() > 60 ? p + "..." : p;
}
inline std::string quote(std::string_view text) {
    return "\"" + printable(text) + "\"";
}

// Where an initializer is in the file: its name and its TensorProto bytes.
struct initializer_ref {
    std::string_view name;
    std::uint32_t begin = 0;  // offset of the TensorProto in the file (< 2 GiB: protobuf's limit)
    std::uint32_t size = 0;
};

// A tensor's header, read and checked; its data stays in the file until it is copied into θ.
struct tensor_info {
    std::string_view name;
    std::vector<std::int64_t> dims;
    std::uint64_t data_type = 0;
    std::uint64_t count = 0;  // Π dims, checked against the data the file holds
};

// One dense layer as the graph gives it: where W and b are and how to read them.
struct layer_recipe {
    std::string_view node;   // the Gemm or MatMul, for messages
    std::size_t weight = 0;  // index into the sorted initializers
    std::optional<std::size_t> bias;
    bool transposed = false;  // W stored as [out, in] (Gemm transB = 1, PyTorch's layout)
    double alpha = 1, beta = 1;
    LayerSpec spec;
};

class importer {
public:
    importer(std::string_view bytes, std::string name, const OnnxImportOptions& options)
        : bytes_(bytes), name_(std::move(name)), options_(options) {}

    OnnxModel run() {
        if (bytes_.size() >= (std::size_t{1} << 31))
            throw unsupported(
                "the file is 2 GiB or more, beyond protobuf's limit (ONNX keeps such weights as "
                "external data, which descent does not read)");
        try {
            read_model();
            read_graph();
            walk_nodes();
            finish();
            return assemble();
        } catch (const protobuf::wire_error& e) {
            throw malformed(std::string("broken protobuf wire format: ") + e.what());
        }
    }

private:
    malformed_onnx_error malformed(const std::string& what) const {
        return malformed_onnx_error(name_ + ": malformed ONNX file: " + what);
    }
    unsupported_onnx_error unsupported(const std::string& what) const {
        return unsupported_onnx_error(name_ + ": " + what);
    }
    void expect(const field& f, wire_type type, const char* what) const {
        if (f.type != type)
            throw malformed(std::string(what) + " at byte " + std::to_string(f.offset) + " has wire type " +
                            std::to_string(static_cast<int>(f.type)) + ", expected " +
                            std::to_string(static_cast<int>(type)));
    }
    std::string node_label() const {
        return "node " + std::to_string(node_index_) + (node_name_.empty() ? "" : " " + quote(node_name_)) +
               " (" + printable(op_) + ")";
    }
    unsupported_onnx_error unsupported_node(const std::string& what) const {
        return unsupported(node_label() + ": " + what);
    }
    malformed_onnx_error malformed_node(const std::string& what) const {
        return malformed(node_label() + ": " + what);
    }

    // ModelProto: the IR version, the default domain's opset, the graph.
    void read_model() {
        if (bytes_.empty()) throw malformed("the file is empty");
        reader model(bytes_);
        bool has_ir = false, has_opset = false;
        std::int64_t ir = 0;
        while (!model.done()) {
            const field f = model.next();
            if (f.number == model::ir_version) {
                expect(f, wire_type::varint, "ir_version");
                ir = f.as_int64();
                has_ir = true;
            } else if (f.number == model::graph) {
                expect(f, wire_type::length_delimited, "the graph");
                if (graph_seen_) throw malformed("two graphs");
                graph_seen_ = true;
                graph_ = f.bytes;
                graph_offset_ = f.offset;
            } else if (f.number == model::metadata_props) {
                expect(f, wire_type::length_delimited, "metadata_props");
                std::string_view key, value;
                for (reader entry = reader::of(f); !entry.done();) {
                    const field g = entry.next();
                    if (g.number == string_entry::key && g.type == wire_type::length_delimited) key = g.bytes;
                    if (g.number == string_entry::value && g.type == wire_type::length_delimited)
                        value = g.bytes;
                }
                if (key == head_metadata) {
                    if (!is_head(value))
                        throw malformed("metadata " + std::string(head_metadata) +
                                        " names no head: " + quote(value));
                    declared_head_ = value;
                }
            } else if (f.number == model::opset_import) {
                expect(f, wire_type::length_delimited, "opset_import");
                reader id = reader::of(f);
                std::string_view domain;
                std::int64_t version = 0;
                while (!id.done()) {
                    const field g = id.next();
                    if (g.number == opset_id::domain) {
                        expect(g, wire_type::length_delimited, "opset_import's domain");
                        domain = g.bytes;
                    } else if (g.number == opset_id::version) {
                        expect(g, wire_type::varint, "opset_import's version");
                        version = g.as_int64();
                    }
                }
                if (domain.empty() || domain == "ai.onnx") {
                    if (has_opset) throw malformed("two opset imports for the default domain");
                    has_opset = true;
                    opset_ = version;
                }
            }
        }
        if (!has_ir || ir <= 0) throw malformed("no ir_version");
        if (ir < oldest_ir_version || ir > newest_ir_version)
            throw unsupported("IR version " + std::to_string(ir) + " is outside what descent reads (" +
                              std::to_string(oldest_ir_version) + " to " + std::to_string(newest_ir_version) +
                              ")");
        if (!has_opset) throw malformed("no opset import for the default domain (\"\" or ai.onnx)");
        if (opset_ < oldest_opset || opset_ > newest_opset)
            throw unsupported("opset " + std::to_string(opset_) + " is outside what descent reads (" +
                              std::to_string(oldest_opset) + " to " + std::to_string(newest_opset) + ")");
        if (!graph_seen_) throw malformed("no graph");
    }

    // GraphProto, first pass: the initializers (sorted by name), the one real input, the outputs.
    void read_graph() {
        // Counted first, so that the index is allocated once at its size, not grown to twice it.
        std::size_t count = 0;
        for (reader graph(graph_, graph_offset_); !graph.done();)
            count += graph.next().number == graph::initializer;
        initializers_.reserve(count);
        for (reader graph(graph_, graph_offset_); !graph.done();) {
            const field f = graph.next();
            if (f.number == graph::initializer) {
                expect(f, wire_type::length_delimited, "an initializer");
                const std::string_view name = tensor_name(f);
                if (name.empty())
                    throw malformed("an initializer without a name at byte " + std::to_string(f.offset));
                initializers_.push_back(
                    {name, static_cast<std::uint32_t>(f.offset), static_cast<std::uint32_t>(f.bytes.size())});
            } else if (f.number == graph::input || f.number == graph::output) {
                expect(f, wire_type::length_delimited,
                       f.number == graph::input ? "a graph input" : "a graph output");
                if (f.number == graph::output) ++outputs_;
            }
        }
        std::sort(initializers_.begin(), initializers_.end(),
                  [](const auto& a, const auto& b) { return a.name < b.name; });
        for (std::size_t i = 1; i < initializers_.size(); ++i)
            if (initializers_[i].name == initializers_[i - 1].name)
                throw malformed("two initializers named " + quote(initializers_[i].name));
        used_.assign(initializers_.size(), false);

        // The one input that is not an initializer (old exporters list the weights as inputs too).
        bool found = false;
        for (reader graph(graph_, graph_offset_); !graph.done();) {
            const field f = graph.next();
            if (f.number != graph::input) continue;
            const auto info = value_info(f);
            if (find_initializer(info.name)) continue;
            if (found)
                throw unsupported("the graph has inputs " + quote(current_) + " and " + quote(info.name) +
                                  "; descent's networks take one");
            found = true;
            current_ = info.name;
            element_type_ = info.element_type;
            if (info.rank) {
                input_rank_ = *info.rank;
                if (input_rank_ < 2)
                    throw unsupported("the input " + quote(info.name) + " has rank " +
                                      std::to_string(input_rank_) + "; descent takes [batch, features]");
                width_ = info.columns;  // empty when symbolic or unknown
            }
        }
        if (!found) throw malformed("the graph has no input (besides initializers)");
        if (element_type_ != type_float && element_type_ != type_double)
            throw unsupported("the input " + quote(current_) + " has element type " +
                              std::to_string(element_type_) + "; descent reads float (1) and double (11)");
        if (outputs_ == 0) throw malformed("the graph has no output");
        if (outputs_ > 2)
            throw unsupported("the graph has " + std::to_string(outputs_) +
                              " outputs; descent's networks give f(x) and at most a(L+1) besides");
    }

    struct value_info_view {
        std::string_view name;
        std::uint64_t element_type = 0;
        std::optional<std::size_t> rank;
        std::optional<std::int64_t> columns;  // Π of dims 1.. when every one is a value
    };
    value_info_view value_info(const field& f) const {
        value_info_view v;
        for (reader info = reader::of(f); !info.done();) {
            const field g = info.next();
            if (g.number == value_info::name) {
                expect(g, wire_type::length_delimited, "a value's name");
                v.name = g.bytes;
            } else if (g.number == value_info::type) {
                expect(g, wire_type::length_delimited, "a value's type");
                for (reader type = reader::of(g); !type.done();) {
                    const field t = type.next();
                    if (t.number != type::tensor_type) continue;
                    expect(t, wire_type::length_delimited, "a tensor type");
                    for (reader tensor = reader::of(t); !tensor.done();) {
                        const field e = tensor.next();
                        if (e.number == tensor_type::elem_type) {
                            expect(e, wire_type::varint, "an element type");
                            v.element_type = e.value;
                        } else if (e.number == tensor_type::shape) {
                            expect(e, wire_type::length_delimited, "a shape");
                            read_shape(e, v);
                        }
                    }
                }
            }
        }
        return v;
    }
    void read_shape(const field& shape_field, value_info_view& v) const {
        std::size_t rank = 0;
        std::int64_t columns = 1;
        bool known = true;
        for (reader shape = reader::of(shape_field); !shape.done();) {
            const field d = shape.next();
            if (d.number != shape::dim) continue;
            expect(d, wire_type::length_delimited, "a dimension");
            std::optional<std::int64_t> value;
            for (reader dim = reader::of(d); !dim.done();) {
                const field x = dim.next();
                if (x.number == dimension::dim_value) {
                    expect(x, wire_type::varint, "a dimension's value");
                    value = x.as_int64();
                }
            }
            if (rank++ == 0) continue;  // the batch
            if (!value || *value < 0) {
                known = false;
            } else if (known) {
                // A product past the file's size cannot match any weight's width.
                if (*value != 0 && columns > static_cast<std::int64_t>(bytes_.size()) / *value)
                    columns = static_cast<std::int64_t>(bytes_.size()) + 1;
                else
                    columns *= *value;
            }
        }
        v.rank = rank;
        if (known && rank >= 2) v.columns = columns;
    }

    static std::string_view tensor_name(const field& f) {
        std::string_view name;
        for (reader t = reader::of(f); !t.done();) {
            const field g = t.next();
            if (g.number == tensor::name && g.type == wire_type::length_delimited) name = g.bytes;
        }
        return name;
    }
    std::optional<std::size_t> find_initializer(std::string_view name) const {
        const auto it = std::lower_bound(initializers_.begin(), initializers_.end(), name,
                                         [](const auto& i, std::string_view n) { return i.name < n; });
        if (it == initializers_.end() || it->name != name) return std::nullopt;
        return static_cast<std::size_t>(it - initializers_.begin());
    }
    field initializer_field(std::size_t i) const {
        field f;
        f.type = wire_type::length_delimited;
        f.offset = initializers_[i].begin;
        f.bytes = bytes_.substr(initializers_[i].begin, initializers_[i].size);
        return f;
    }

    // TensorProto's header, and a check that its data fills its dims exactly.
    tensor_info read_tensor(std::size_t i) const {
        tensor_info t;
        t.name = initializers_[i].name;
        std::uint64_t raw = 0, floats = 0, doubles = 0;
        bool has_raw = false;
        const auto bad = [&](const std::string& what) {
            return malformed("initializer " + quote(t.name) + ": " + what);
        };
        const auto add_dim = [&](std::uint64_t d) {
            if (t.dims.size() >= 8)
                throw unsupported("initializer " + quote(t.name) + " has over 8 dimensions");
            if (static_cast<std::int64_t>(d) < 0) throw bad("a negative dimension");
            t.dims.push_back(static_cast<std::int64_t>(d));
        };
        for (reader r = reader::of(initializer_field(i)); !r.done();) {
            const field f = r.next();
            switch (f.number) {
                case tensor::dims:
                    if (f.type == wire_type::length_delimited)
                        protobuf::for_each_packed_varint(f, add_dim);
                    else {
                        expect(f, wire_type::varint, "a dimension");
                        add_dim(f.value);
                    }
                    break;
                case tensor::data_type:
                    expect(f, wire_type::varint, "a data type");
                    t.data_type = f.value;
                    break;
                case tensor::raw_data:
                    expect(f, wire_type::length_delimited, "raw_data");
                    raw += f.bytes.size();
                    has_raw = true;
                    break;
                case tensor::float_data:
                    if (f.type == wire_type::length_delimited) {
                        if (f.bytes.size() % 4 != 0)
                            throw bad("packed float_data of " + std::to_string(f.bytes.size()) + " bytes");
                        floats += f.bytes.size() / 4;
                    } else {
                        expect(f, wire_type::fixed32, "float_data");
                        ++floats;
                    }
                    break;
                case tensor::double_data:
                    if (f.type == wire_type::length_delimited) {
                        if (f.bytes.size() % 8 != 0)
                            throw bad("packed double_data of " + std::to_string(f.bytes.size()) + " bytes");
                        doubles += f.bytes.size() / 8;
                    } else {
                        expect(f, wire_type::fixed64, "double_data");
                        ++doubles;
                    }
                    break;
                case tensor::data_location:
                    if (f.value != 0)
                        throw unsupported("initializer " + quote(t.name) +
                                          " keeps its data in an external file, which descent does not read");
                    break;
                case tensor::external_data:
                    throw unsupported("initializer " + quote(t.name) +
                                      " keeps its data in an external file, which descent does not read");
                case tensor::segment:
                    throw unsupported("initializer " + quote(t.name) + " is a segment of a tensor");
                case tensor::name:
                case tensor::doc_string:
                    break;
                default:
                    if (f.number >= 5 && f.number <= 11)  // int32_data, string_data, int64_data, uint64_data
                        throw bad("data in field " + std::to_string(f.number) +
                                  ", which float and double tensors do not use");
                    break;
            }
        }
        if (t.data_type != type_float && t.data_type != type_double)
            throw unsupported("initializer " + quote(t.name) + " has element type " +
                              std::to_string(t.data_type) + "; descent reads float (1) and double (11)");
        if (t.data_type != element_type_)
            throw malformed("initializer " + quote(t.name) + " has element type " +
                            std::to_string(t.data_type) + " but the input has " +
                            std::to_string(element_type_));
        // Π dims, stopped as soon as it passes what the file could hold.
        t.count = 1;
        for (const auto d : t.dims) {
            const auto du = static_cast<std::uint64_t>(d);
            if (du != 0 && t.count > bytes_.size() / du)
                throw bad("dimensions claim more elements than the file holds");
            t.count *= du;
        }
        const std::uint64_t size = t.data_type == type_float ? 4 : 8;
        const std::uint64_t held = has_raw ? raw / size : t.data_type == type_float ? floats : doubles;
        if ((has_raw && (floats > 0 || doubles > 0)) || (t.data_type == type_float ? doubles : floats) > 0)
            throw bad("data in more than one field, or in the field of another type");
        if ((has_raw && raw % size != 0) || held != t.count)
            throw bad("dims " + dims_text(t.dims) + " need " + std::to_string(t.count) +
                      " elements, the data holds " +
                      (has_raw ? std::to_string(raw) + " bytes" : std::to_string(held) + " elements"));
        return t;
    }
    static std::string dims_text(const std::vector<std::int64_t>& dims) {
        std::string text = "[";
        for (std::size_t k = 0; k < dims.size(); ++k) {
            if (k > 0) text += ", ";
            text += std::to_string(dims[k]);
        }
        return text + "]";
    }

    // Visits the elements of initializer i in row-major order as doubles.
    template <class Visit>
    void for_each_element(std::size_t i, Visit&& visit) const {
        std::uint64_t index = 0;
        const bool is_float = read_tensor(i).data_type == type_float;
        const auto emit = [&](double v) {
            if (!std::isfinite(v))
                throw malformed("initializer " + quote(initializers_[i].name) + " holds " +
                                (std::isnan(v) ? "NaN" : "an infinity") + " at element " +
                                std::to_string(index));
            visit(index++, v);
        };
        const auto little = [](std::string_view b, std::size_t at, std::size_t n) {
            std::uint64_t v = 0;
            for (std::size_t k = 0; k < n; ++k)
                v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(b[at + k])) << (8 * k);
            return v;
        };
        const auto run = [&](std::string_view b) {
            if (is_float)
                for (std::size_t at = 0; at + 4 <= b.size(); at += 4)
                    emit(std::bit_cast<float>(static_cast<std::uint32_t>(little(b, at, 4))));
            else
                for (std::size_t at = 0; at + 8 <= b.size(); at += 8)
                    emit(std::bit_cast<double>(little(b, at, 8)));
        };
        for (reader r = reader::of(initializer_field(i)); !r.done();) {
            const field f = r.next();
            if (f.number == tensor::raw_data)
                run(f.bytes);
            else if (f.number == tensor::float_data || f.number == tensor::double_data) {
                if (f.type == wire_type::length_delimited)
                    run(f.bytes);
                else
                    emit(f.number == tensor::float_data ? static_cast<double>(f.as_float()) : f.as_double());
            }
        }
    }

    // One NodeProto, read into the members below.
    void read_node(const field& f) {
        // Kept up to what the subset's operators take (3 inputs, 1 output, Gemm's 4 attributes) and
        // counted beyond, so that a node of a million empty inputs costs no memory.
        inputs_.clear();
        outputs_names_.clear();
        attributes_.clear();
        std::size_t input_count = 0, output_count = 0, attribute_count = 0;
        node_name_ = {};
        op_ = {};
        std::string_view domain;
        for (reader node = reader::of(f); !node.done();) {
            const field g = node.next();
            switch (g.number) {
                case node::input:
                    expect(g, wire_type::length_delimited, "a node's input");
                    if (++input_count < 4) inputs_.push_back(g.bytes);
                    break;
                case node::output:
                    expect(g, wire_type::length_delimited, "a node's output");
                    if (++output_count < 2) outputs_names_.push_back(g.bytes);
                    break;
                case node::name:
                    expect(g, wire_type::length_delimited, "a node's name");
                    node_name_ = g.bytes;
                    break;
                case node::op_type:
                    expect(g, wire_type::length_delimited, "a node's op_type");
                    op_ = g.bytes;
                    break;
                case node::domain:
                    expect(g, wire_type::length_delimited, "a node's domain");
                    domain = g.bytes;
                    break;
                case node::attribute:
                    expect(g, wire_type::length_delimited, "an attribute");
                    if (++attribute_count < 5) attributes_.push_back(g);
                    break;
                default:
                    break;
            }
        }
        if (op_.empty()) throw malformed_node("no op_type");
        if (!domain.empty() && domain != "ai.onnx")
            throw unsupported_node("domain " + quote(domain) +
                                   " is outside the ONNX operators descent reads");
        constexpr std::string_view subset[] = {"Gemm",    "MatMul",  "Add",      "Relu",   "Tanh",
                                               "Sigmoid", "Softmax", "Identity", "Flatten"};
        if (std::find(std::begin(subset), std::end(subset), op_) == std::end(subset))
            throw unsupported_node(
                "op " + printable(op_) +
                " is outside the subset descent reads (Gemm, MatMul, Add, Relu, Tanh, Sigmoid, "
                "Softmax, Identity, Flatten)");
        if (input_count > 3)
            throw unsupported_node(std::to_string(input_count) +
                                   " inputs; the operators descent reads take at most 3");
        if (attribute_count > 4)
            throw unsupported_node(std::to_string(attribute_count) +
                                   " attributes; the operators descent reads take at most 4");
        if (output_count != 1 || outputs_names_[0].empty())
            throw unsupported_node(std::to_string(output_count) +
                                   " outputs; the operators descent reads have one");
    }

    // The attributes of the current node, each checked against what `op_` allows.
    struct attribute_value {
        std::string_view name;
        std::optional<std::int64_t> i;
        std::optional<double> f;
    };
    attribute_value read_attribute(const field& a) const {
        attribute_value v;
        for (reader r = reader::of(a); !r.done();) {
            const field g = r.next();
            if (g.number == attribute::name) {
                expect(g, wire_type::length_delimited, "an attribute's name");
                v.name = g.bytes;
            } else if (g.number == attribute::i) {
                expect(g, wire_type::varint, "an int attribute");
                v.i = g.as_int64();
            } else if (g.number == attribute::f) {
                expect(g, wire_type::fixed32, "a float attribute");
                v.f = g.as_float();
            } else if (g.number == attribute::s || g.number == attribute::t || g.number == attribute::g ||
                       g.number == attribute::floats || g.number == attribute::ints) {
                throw unsupported_node("attribute " + quote(v.name) +
                                       " has a value of a kind descent's operators do not take");
            }
        }
        return v;
    }
    std::int64_t int_attribute(const attribute_value& a) const {
        if (!a.i) throw malformed_node("attribute " + quote(a.name) + " has no int value");
        return *a.i;
    }
    double float_attribute(const attribute_value& a) const {
        if (!a.f) throw malformed_node("attribute " + quote(a.name) + " has no float value");
        return *a.f;
    }

    void walk_nodes() {
        for (reader graph(graph_, graph_offset_); !graph.done();) {
            const field f = graph.next();
            if (f.number != graph::node) continue;
            expect(f, wire_type::length_delimited, "a node");
            ++node_index_;
            read_node(f);
            if (inputs_.empty() || inputs_[0] != current_) {
                const bool elsewhere = std::find(inputs_.begin(), inputs_.end(), current_) != inputs_.end();
                if (!(op_ == "Add" && elsewhere))
                    throw unsupported_node(
                        "takes " + (inputs_.empty() ? std::string("no input") : quote(inputs_[0])) +
                        ", not " + quote(current_) +
                        ", the tensor the chain has reached: descent reads chains of layers");
            }
            const std::string_view out = outputs_names_[0];
            if (op_ == "Identity") {
                expect_inputs(1);
                no_attributes();
            } else if (op_ == "Flatten") {
                flatten();
            } else if (op_ == "Gemm") {
                gemm();
            } else if (op_ == "MatMul") {
                matmul();
            } else if (op_ == "Add") {
                add();
            } else if (op_ == "Relu" || op_ == "Tanh" || op_ == "Sigmoid") {
                activation();
            } else {
                softmax();  // read_node let no other op through
            }
            if (stage_ == stage::dense) logits_ = out;  // a(L+1), if no activation follows
            current_ = out;
        }
    }

    void expect_inputs(std::size_t n) const {
        if (inputs_.size() != n)
            throw malformed_node(std::to_string(inputs_.size()) + " inputs, expected " + std::to_string(n));
    }
    void no_attributes() const {
        if (!attributes_.empty())
            throw unsupported_node("attribute " + quote(read_attribute(attributes_.front()).name) +
                                   " is not one descent reads");
    }
    void after_head() const {
        if (stage_ == stage::head)
            throw unsupported_node("follows the head (" + std::string(head_) + "): f(x) must be the output");
    }

    void flatten() {
        expect_inputs(1);
        after_head();
        for (const auto& a : attributes_) {
            const auto v = read_attribute(a);
            if (v.name != "axis")
                throw unsupported_node("attribute " + quote(v.name) + " is not one descent reads");
            if (int_attribute(v) != 1)
                throw unsupported_node("axis " + std::to_string(int_attribute(v)) +
                                       "; descent reads Flatten(axis 1), which keeps the batch");
        }
        if (stage_ == stage::start && input_rank_ > 2) input_rank_ = 2;  // [B, d1, d2, ...] -> [B, d1 d2 ...]
    }

    // Opens layer k: its W from initializer `name`, stored [in, out] or, transposed, [out, in].
    void open_layer(std::string_view name, bool transposed, double alpha) {
        after_head();
        if (stage_ == stage::start && input_rank_ > 2)
            throw unsupported_node("the input has rank " + std::to_string(input_rank_) +
                                   " and no Flatten(axis 1) before the first layer");
        const auto w = weight(name, "W");
        const auto t = read_tensor(w);
        if (t.dims.size() != 2)
            throw unsupported_node("W " + quote(name) + " has dims " + dims_text(t.dims) +
                                   ", expected 2 of them");
        const std::int64_t in = transposed ? t.dims[1] : t.dims[0], out = transposed ? t.dims[0] : t.dims[1];
        if (in == 0 || out == 0)
            throw unsupported_node("W " + quote(name) + " has dims " + dims_text(t.dims) +
                                   ": a layer of size 0");
        const std::optional<std::int64_t> width =
            layers_.empty() ? width_ : std::optional<std::int64_t>(layers_.back().spec.outputs);
        if (width && *width != in)
            throw malformed_node("W " + quote(name) + (transposed ? " (transposed)" : "") + " takes " +
                                 std::to_string(in) + " inputs, " + quote(current_) + " has " +
                                 std::to_string(*width));
        layer_recipe layer;
        layer.node = node_name_;
        layer.weight = w;
        layer.transposed = transposed;
        layer.alpha = alpha;
        layer.spec = {"dense", "identity", static_cast<Eigen::Index>(in), static_cast<Eigen::Index>(out)};
        layers_.push_back(layer);
        stage_ = stage::dense;
    }
    std::size_t weight(std::string_view name, const char* role) {
        const auto i = find_initializer(name);
        if (!i)
            throw unsupported_node(
                std::string(role) + " " + quote(name) +
                " is not an initializer (weights computed in the graph, or sparse, are not read)");
        if (used_[*i])
            throw unsupported_node(std::string(role) + " " + quote(name) +
                                   " is used by two layers; descent ties no weights");
        used_[*i] = true;
        return *i;
    }
    // b of the open layer, from initializer `name`: [out], [1, out], or one value for all.
    void set_bias(std::string_view name, double beta) {
        auto& layer = layers_.back();
        const auto b = weight(name, "b");
        const auto t = read_tensor(b);
        const auto out = static_cast<std::uint64_t>(layer.spec.outputs);
        const bool row = (t.dims.size() == 1 && t.dims[0] == layer.spec.outputs) ||
                         (t.dims.size() == 2 && t.dims[0] == 1 && t.dims[1] == layer.spec.outputs);
        if (!row && !(t.count == 1 && t.dims.size() <= 2))
            throw unsupported_node("b " + quote(name) + " has dims " + dims_text(t.dims) + ", expected [" +
                                   std::to_string(out) + "], [1, " + std::to_string(out) + "] or one value");
        layer.bias = b;
        layer.beta = beta;
    }

    void gemm() {
        if (inputs_.size() < 2 || inputs_.size() > 3)
            throw malformed_node(std::to_string(inputs_.size()) + " inputs, expected 2 or 3");
        double alpha = 1, beta = 1;
        bool transposed = false;
        for (const auto& a : attributes_) {
            const auto v = read_attribute(a);
            if (v.name == "alpha")
                alpha = float_attribute(v);
            else if (v.name == "beta")
                beta = float_attribute(v);
            else if (v.name == "transA") {
                if (int_attribute(v) != 0)
                    throw unsupported_node("transA = " + std::to_string(int_attribute(v)) +
                                           ": the samples must be rows");
            } else if (v.name == "transB") {
                const auto t = int_attribute(v);
                if (t != 0 && t != 1) throw malformed_node("transB = " + std::to_string(t));
                transposed = t == 1;
            } else {
                throw unsupported_node("attribute " + quote(v.name) + " is not one descent reads");
            }
        }
        if (!std::isfinite(alpha) || !std::isfinite(beta))
            throw malformed_node("alpha or beta is not finite");
        open_layer(inputs_[1], transposed, alpha);
        if (inputs_.size() == 3 && !inputs_[2].empty()) set_bias(inputs_[2], beta);
    }
    void matmul() {
        expect_inputs(2);
        no_attributes();
        open_layer(inputs_[1], false, 1);
    }
    void add() {
        expect_inputs(2);
        no_attributes();
        if (stage_ != stage::dense || layers_.back().bias)
            throw unsupported_node("an Add that is not the bias of a MatMul or Gemm without one");
        set_bias(inputs_[0] == current_ ? inputs_[1] : inputs_[0], 1);
    }
    void activation() {
        expect_inputs(1);
        no_attributes();
        after_head();
        if (stage_ != stage::dense)
            throw unsupported_node(stage_ == stage::start
                                       ? "before the first layer"
                                       : "after another activation; descent's layers have one");
        layers_.back().spec.activation = op_ == "Relu" ? "relu" : op_ == "Tanh" ? "tanh" : "sigmoid";
        stage_ = stage::activated;
    }
    void softmax() {
        expect_inputs(1);
        after_head();
        for (const auto& a : attributes_) {
            const auto v = read_attribute(a);
            if (v.name != "axis")
                throw unsupported_node("attribute " + quote(v.name) + " is not one descent reads");
            const auto axis = int_attribute(v);
            if (axis != 1 && axis != -1)
                throw unsupported_node("axis " + std::to_string(axis) +
                                       "; descent's softmax normalises over the classes, axis 1");
        }
        if (stage_ != stage::dense)
            throw unsupported_node(
                "a softmax that does not follow a dense layer directly: descent's head acts on a(L+1)");
        head_ = "softmax_cross_entropy";
        stage_ = stage::head;
    }

    // The chain's end: the head, and the graph's outputs checked against it.
    void finish() {
        if (layers_.empty()) throw unsupported("the graph has no Gemm or MatMul: no layer");
        if (stage_ == stage::activated) {
            auto& last = layers_.back().spec;
            if (last.activation != "sigmoid")
                throw unsupported(
                    "the graph ends in " + std::string(last.activation == "relu" ? "Relu" : "Tanh") +
                    " after its last layer; descent's output heads are softmax, sigmoid or none");
            last.activation = "identity";  // the sigmoid is the head's, on a(L+1)
            head_ = "sigmoid_cross_entropy";
        } else if (stage_ == stage::dense && !declared_head_.empty()) {
            head_ = declared_head_;  // descent's own file says (squared_error has no node of its own)
        } else if (stage_ == stage::dense) {
            if (!is_head(options_.logits_head))
                throw argument_error(
                    "import_onnx: logits_head \"" + options_.logits_head +
                    "\" is no head (softmax_cross_entropy, sigmoid_cross_entropy, squared_error)");
            head_ = options_.logits_head;
        }
        if (!declared_head_.empty() && declared_head_ != head_)
            throw malformed("the metadata says the head is " + std::string(declared_head_) +
                            ", the graph computes " + std::string(head_));
        bool has_final = false;
        for (reader graph(graph_, graph_offset_); !graph.done();) {
            const field f = graph.next();
            if (f.number != graph::output) continue;
            const auto info = value_info(f);
            const bool final_output = info.name == current_;
            if (!final_output && info.name != logits_)
                throw unsupported("output " + quote(info.name) + " is neither f(x) (" + quote(current_) +
                                  ") nor a(L+1) (" + quote(logits_) + ")");
            has_final = has_final || final_output;
            if (info.element_type != 0 && info.element_type != element_type_)
                throw malformed("output " + quote(info.name) + " has element type " +
                                std::to_string(info.element_type) + ", the network computes " +
                                std::to_string(element_type_));
            if (info.columns && *info.columns != layers_.back().spec.outputs)
                throw malformed("output " + quote(info.name) + " has " + std::to_string(*info.columns) +
                                " columns, the last layer gives " +
                                std::to_string(layers_.back().spec.outputs));
        }
        if (!has_final)
            throw unsupported("the chain ends in " + quote(current_) +
                              ", which is not an output of the graph");
    }

    OnnxModel assemble() const {
        OnnxModel model;
        model.architecture.head = head_;
        model.architecture.scalar = element_type_ == type_float ? "float" : "double";
        Eigen::Index total = 0;
        for (const auto& layer : layers_) {
            model.architecture.layers.push_back(layer.spec);
            total += layer.spec.outputs * (layer.spec.inputs + 1);
        }
        model.parameters = Eigen::VectorXd::Zero(total);
        // Gemm's alpha and beta are folded into W(k) and b(k); the products must stay within the
        // file's scalar type, or θ could not be put into a network of that type.
        const double largest = element_type_ == type_float
                                   ? static_cast<double>(std::numeric_limits<float>::max())
                                   : std::numeric_limits<double>::max();
        const auto folded = [&](const layer_recipe& layer, double factor, double v, const char* what) {
            const double product = factor * v;
            if (!(std::abs(product) <= largest))
                throw malformed("node " + quote(layer.node) + ": " + what + " times its " +
                                (what[0] == 'a' ? "W" : "b") + " leaves the range of " +
                                model.architecture.scalar);
            return product;
        };
        Eigen::Index offset = 0;
        for (const auto& layer : layers_) {
            const auto in = static_cast<std::uint64_t>(layer.spec.inputs),
                       out = static_cast<std::uint64_t>(layer.spec.outputs);
            double* w = model.parameters.data() + offset;
            // W(k) column-major out x in: element (i, j) at i + j out. Stored [out, in] row-major
            // (transposed), element index = i in + j; stored [in, out], index = j out + i already.
            for_each_element(layer.weight, [&](std::uint64_t index, double v) {
                const std::uint64_t at = layer.transposed ? index / in + (index % in) * out : index;
                w[at] = folded(layer, layer.alpha, v, "alpha");
            });
            double* b = w + in * out;
            if (layer.bias) {
                if (read_tensor(*layer.bias).count == 1 && out > 1)
                    for_each_element(*layer.bias, [&](std::uint64_t, double v) {
                        std::fill(b, b + out, folded(layer, layer.beta, v, "beta"));
                    });
                else
                    for_each_element(*layer.bias, [&](std::uint64_t index, double v) {
                        b[index] = folded(layer, layer.beta, v, "beta");
                    });
            }
            offset += static_cast<Eigen::Index>(out * (in + 1));
        }
        return model;
    }

    enum class stage { start, dense, activated, head };

    std::string_view bytes_;
    std::string name_;
    const OnnxImportOptions& options_;
    std::int64_t opset_ = 0;
    bool graph_seen_ = false;
    std::string_view graph_;
    std::size_t graph_offset_ = 0;
    std::vector<initializer_ref> initializers_;
    std::vector<bool> used_;
    std::size_t outputs_ = 0;
    std::uint64_t element_type_ = 0;
    std::size_t input_rank_ = 2;
    std::optional<std::int64_t> width_;
    // The walk: the node being read, the tensor the chain has reached, the layers so far.
    std::size_t node_index_ = 0;
    std::string_view node_name_, op_;
    std::vector<std::string_view> inputs_, outputs_names_;
    std::vector<field> attributes_;
    std::string_view current_, logits_;
    stage stage_ = stage::start;
    std::string_view head_, declared_head_;
    std::vector<layer_recipe> layers_;
};

// The model in `bytes` (an ONNX file's content); `name` is what messages call it.
// throws: as import_onnx, but never io_error.
inline OnnxModel decode_onnx(std::string_view bytes, const std::string& name,
                             const OnnxImportOptions& options = {}) {
    return importer(bytes, name, options).run();
}

}  // namespace detail::onnx

// The feed-forward network in the ONNX file at `path` (the subset at the top of this header).
// ensures: for a file export_onnx wrote, the architecture and θ it was given, bit for bit.
// throws: io_error (missing, unreadable), malformed_onnx_error (not valid ONNX: the byte or the
//         part), unsupported_onnx_error (valid ONNX outside the subset: the node and its op),
//         argument_error (options.logits_head is no head).
inline OnnxModel import_onnx(const std::filesystem::path& path, const OnnxImportOptions& options = {}) {
    const std::string bytes = detail::read_file(path);
    return detail::onnx::decode_onnx(bytes, path.string(), options);
}

// A network import_onnx_into can fill: its architecture, and θ to assign.
template <class Net>
concept OnnxImportable = requires(Net& net, const Net& c) {
    typename Net::scalar_type;
    { c.architecture() } -> std::convertible_to<Architecture>;
    net.parameters() = Eigen::VectorXd().cast<typename Net::scalar_type>();
};

// Reads the ONNX file at `path` into `net`, whose architecture (layers, activations, head) and
// scalar type must be the file's.
// ensures: on a throw, net is unchanged (the file is read and checked in full first).
// throws: as import_onnx; onnx_scalar_type_mismatch_error (a float file into a double network
//         or back); onnx_architecture_mismatch_error, naming both architectures.
template <OnnxImportable Net>
void import_onnx_into(Net& net, const std::filesystem::path& path, const OnnxImportOptions& options = {}) {
    using Scalar = typename Net::scalar_type;
    auto model = import_onnx(path, options);
    const Architecture mine = net.architecture();
    if (model.architecture.scalar != mine.scalar)
        throw onnx_scalar_type_mismatch_error(
            path.string() + ": the file holds " + model.architecture.scalar + " weights, this network is " +
            mine.scalar + " (import it into Net::rebind<" + model.architecture.scalar + ">)");
    if (model.architecture.layers != mine.layers || model.architecture.head != mine.head)
        throw onnx_architecture_mismatch_error(path.string() + ": the file is " +
                                               descent::describe(model.architecture) + ", this network is " +
                                               descent::describe(mine));
    net.parameters() = model.parameters.cast<Scalar>();
}

// A new Network<Scalar> with the architecture and θ of the ONNX file at `path`.
// throws: as import_onnx; onnx_scalar_type_mismatch_error (a double file into
//         load_onnx_network<float> or back: it names the one to call); unsupported_onnx_error
//         for a chain Network cannot hold (an activation on the output layer before the head).
template <std::floating_point Scalar = float>
Network<Scalar> load_onnx_network(const std::filesystem::path& path, const OnnxImportOptions& options = {}) {
    auto model = import_onnx(path, options);
    const char* mine = std::is_same_v<Scalar, float> ? "float" : "double";
    const std::string& theirs = model.architecture.scalar;
    if (theirs != mine)
        throw onnx_scalar_type_mismatch_error(path.string() + ": the file holds " + theirs +
                                              " weights, load_onnx_network<" + mine + "> builds a " + mine +
                                              " network (call load_onnx_network<" + theirs + ">)");
    auto net = [&] {
        try {
            return Network<Scalar>(model.architecture);
        } catch (const error& e) {
            throw unsupported_onnx_error(path.string() + ": the chain " +
                                         descent::describe(model.architecture) +
                                         " is no Network: " + e.what());
        }
    }();
    net.parameters() = model.parameters.cast<Scalar>();
    return net;
}

}  // namespace descent
