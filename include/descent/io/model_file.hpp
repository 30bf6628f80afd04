#pragma once
// Saving a trained network and loading it back.
//
//   descent::save(net, "fashion.model");
//   descent::load(other, "fashion.model");                  // into a network of the same architecture
//   auto copy = descent::load<Net>("fashion.model");        // a new network, sizes from the file
//   Architecture a = descent::read_architecture("fashion.model");  // what it is, θ left unread
//   ModelData m = descent::load_model("fashion.model");     // what it is and θ, as plain data
//
// The file describes itself (every layer's kind, sizes, activation and dropout rate, the
// output head, the scalar type), so that loading it into the wrong network is an error that
// says what is wrong rather than a network that silently predicts garbage, and so that a
// program can build the network from the file alone (io/load_network.hpp). Each layer names
// its own kind (Mlp::architecture()): this file knows no layer type.
//
// A model file is a payload in the frame of io/codec.hpp (magic 89 "descent" \r \n 1A \n, 12
// bytes; byte order at offset 12, format version at 13, CRC-32 last). Payload of format
// version 2, every multi-byte field in the file's byte order, strings as a 4-byte length and
// the bytes:
//
//   bytes   field
//   1       scalar type      'f' IEEE-754 binary32 (float), 'd' binary64 (double)
//   4+n     head             the loss on a(L+1) that also gives f(x): "softmax_cross_entropy", ...
//   4       layers           L + 1, then per layer k:
//     4+n   kind             "dense"
//     4+n   activation       "relu", "identity", ...
//     8     inputs           H_(k-1)
//     8     outputs          H_k
//     8     dropout          p, binary64: the rate of inverted dropout on h(k) while training
//                            (0 for the output layer and for a layer without dropout)
//   4       metadata         entries, then per entry a key and a value (strings), keys ascending
//                            and distinct: what a later descent records without a new version
//   8       parameter count  as the network lays θ out
//   n·4|8   parameters       θ in that layout (Mlp: W(1) column-major, b(1), W(2), ...)
//
// Version 1 (read, no longer written) is version 2 without the head (it means
// softmax_cross_entropy), the dropout rates (0) and the metadata, with a 1-byte length before
// each name.
#include <Eigen/Core>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../architecture.hpp"
#include "../detail/check_range.hpp"
#include "../detail/file.hpp"
#include "../error.hpp"
#include "codec.hpp"

namespace descent {

// Key/value strings a model file carries besides the network (a value may hold any bytes).
using ModelMetadata = std::map<std::string, std::string>;

// A model file's content as plain data, for a network chosen at run time.
struct ModelData {
    Architecture architecture;
    Eigen::VectorXd parameters;  // θ in the network's layout, in double (which holds a float exactly)
    ModelMetadata metadata;

    // Equal bit for bit (a NaN equals the same NaN).
    friend bool operator==(const ModelData& a, const ModelData& b) {
        return a.architecture == b.architecture && a.metadata == b.metadata &&
               a.parameters.size() == b.parameters.size() &&
               (a.parameters.size() == 0 ||
                std::memcmp(a.parameters.data(), b.parameters.data(),
                            sizeof(double) * static_cast<std::size_t>(a.parameters.size())) == 0);
    }
};

namespace detail {

struct ModelFileFormat {
    static constexpr std::string_view magic{
        "\x89"
        "descent\r\n\x1A\n",
        12};
    static constexpr std::uint32_t oldest = 1;
    static constexpr std::uint32_t version = 2;
    static constexpr std::string_view noun = "model file";
    static constexpr std::string_view reread = "load it";
    static std::string foreign(std::string_view) { return ""; }
    using not_this_error = not_a_model_file_error;
    using corrupt_error = corrupt_model_file_error;
    using version_error = model_version_error;
};

template <class Scalar>
constexpr const char* scalar_name() {
    static_assert(std::numeric_limits<Scalar>::is_iec559 && (sizeof(Scalar) == 4 || sizeof(Scalar) == 8),
                  "descent's files hold IEEE-754 float or double parameters");
    return sizeof(Scalar) == 4 ? "float" : "double";
}

// Layer sizes beyond 2^32 - 1 are not a model: they keep every product of two sizes in 64 bits.
inline constexpr std::uint64_t largest_size = std::numeric_limits<std::uint32_t>::max();

// Names in a model file (kinds, activations, heads): lowercase letters, digits and '_', so
// that they print as they are.
inline bool is_name(std::string_view text) {
    if (text.empty() || text.size() > 64) return false;
    for (const char c : text)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

// What is wrong with `a` as the architecture of a model file ("" when nothing is): names,
// sizes, layers that chain, the scalar type. Layer kinds are the layers' own business.
inline std::string architecture_fault(const Architecture& a) {
    if (a.scalar != "float" && a.scalar != "double")
        return "the scalar type \"" + a.scalar + "\" is neither float nor double";
    if (!is_name(a.head)) return "the head \"" + a.head + "\" is not a name (lowercase letters, digits, _)";
    if (a.layers.empty()) return "no layers";
    for (std::size_t k = 0; k < a.layers.size(); ++k) {
        const LayerSpec& l = a.layers[k];
        const std::string layer = "layer " + std::to_string(k + 1);
        if (!is_name(l.kind) || !is_name(l.activation))
            return layer + "'s kind \"" + l.kind + "\" or activation \"" + l.activation +
                   "\" is not a name (lowercase letters, digits, _)";
        if (l.inputs < 1 || l.outputs < 1 || static_cast<std::uint64_t>(l.inputs) > largest_size ||
            static_cast<std::uint64_t>(l.outputs) > largest_size)
            return layer + " has sizes " + std::to_string(l.inputs) + " -> " + std::to_string(l.outputs);
        if (k > 0 && l.inputs != a.layers[k - 1].outputs)
            return layer + " takes " + std::to_string(l.inputs) + " inputs but layer " + std::to_string(k) +
                   " gives " + std::to_string(a.layers[k - 1].outputs);
        // A rate is a probability of dropping a unit of h(k); h(L+1) is the head's, never dropped.
        if (!(l.dropout >= 0 && l.dropout < 1) || (k + 1 == a.layers.size() && l.dropout != 0))
            return layer + " has dropout " + detail::number(l.dropout) +
                   (k + 1 == a.layers.size() ? ", expected 0 on the output layer" : ", expected [0, 1)");
    }
    return "";
}

// The model payload (format version 2) of architecture `a` with θ = theta[0, count).
// requires: a is sound (architecture_fault(a) empty) and of scalar type Scalar.
template <std::floating_point Scalar>
void put_model(ByteWriter& out, const Architecture& a, const ModelMetadata& metadata, const Scalar* theta,
               std::size_t count) {
    out.put(scalar_name<Scalar>()[0]);
    out.put_string(a.head);
    out.put(static_cast<std::uint32_t>(a.layers.size()));
    for (const LayerSpec& l : a.layers) {
        out.put_string(l.kind);
        out.put_string(l.activation);
        out.put(static_cast<std::uint64_t>(l.inputs));
        out.put(static_cast<std::uint64_t>(l.outputs));
        out.put(l.dropout);
    }
    out.put(static_cast<std::uint32_t>(metadata.size()));
    for (const auto& [key, value] : metadata) {
        out.put_string(key);
        out.put_string(value);
    }
    out.put(static_cast<std::uint64_t>(count));
    out.put(theta, count);
}

// Refuses an architecture that no file can hold. throws: argument_error naming `who`.
inline void check_architecture(const Architecture& a, const char* who) {
    if (std::string fault = architecture_fault(a); !fault.empty())
        throw argument_error(std::string(who) + ": cannot save this architecture: " + fault);
}

// Refuses what put_model must not be given. throws: argument_error naming `who`.
template <std::floating_point Scalar>
void check_model(const Architecture& a, const char* who) {
    check_architecture(a, who);
    if (a.scalar != scalar_name<Scalar>())
        throw argument_error(std::string(who) + ": the architecture is of " + a.scalar +
                             " parameters, given " + scalar_name<Scalar>() + " ones");
}

// A whole model file (format version 2) in the byte order `order`.
// throws: argument_error naming `who` (check_model).
template <std::floating_point Scalar>
std::string encode_model(const Architecture& a, const ModelMetadata& metadata, const Scalar* theta,
                         std::size_t count, std::endian order = std::endian::native,
                         const char* who = "save") {
    check_model<Scalar>(a, who);
    return encode_frame<ModelFileFormat>(order,
                                         [&](ByteWriter& out) { put_model(out, a, metadata, theta, count); });
}

// A model payload, checked and taken apart; `parameters` views θ's bytes, in `order`.
struct ModelImage {
    Architecture architecture;
    ModelMetadata metadata;
    std::uint64_t parameter_count = 0;
    std::string_view parameters;
    std::endian order = std::endian::native;
};

// Reads a model payload of format `version` (1 or 2) to the end of `in`. Every count is checked
// against the bytes that remain before anything is allocated for it.
// throws: Format::corrupt_error naming the field.
template <FileFormat Format>
ModelImage get_model(ByteReader<Format>& in, std::uint32_t version) {
    ModelImage image;
    image.order = in.order();
    Architecture& a = image.architecture;
    const char scalar = in.template get<char>("header");
    if (scalar != 'f' && scalar != 'd') throw in.corrupt("unknown scalar type code");
    a.scalar = scalar == 'f' ? "float" : "double";
    auto name = [&](const char* field) {
        return version == 1 ? in.get_short_string(field) : in.get_string(field);
    };
    if (version >= 2) a.head = in.get_string("head");
    const auto depth = in.template get<std::uint32_t>("header");
    if (depth == 0) throw in.corrupt("no layers");
    // A layer takes at least two 1-byte names, two sizes and (version 2) its dropout rate.
    const std::size_t smallest_layer = version == 1 ? 2 * 2 + 16 : 2 * 5 + 16 + 8;
    if (depth > in.remaining() / smallest_layer)
        throw in.corrupt(std::to_string(depth) + " layers do not fit in the file");
    a.layers.reserve(depth);
    for (std::uint32_t k = 0; k < depth; ++k) {
        LayerSpec l;
        l.kind = name("layer manifest");
        l.activation = name("layer manifest");
        const auto inputs = in.template get<std::uint64_t>("layer manifest");
        const auto outputs = in.template get<std::uint64_t>("layer manifest");
        if (inputs == 0 || outputs == 0 || inputs > largest_size || outputs > largest_size)
            throw in.corrupt("layer " + std::to_string(k + 1) + " has sizes " + std::to_string(inputs) +
                             " -> " + std::to_string(outputs));
        l.inputs = static_cast<Eigen::Index>(inputs);
        l.outputs = static_cast<Eigen::Index>(outputs);
        if (version >= 2) l.dropout = in.template get<double>("layer manifest");
        a.layers.push_back(std::move(l));
    }
    if (version >= 2) {
        const auto entries = in.check_count(in.template get<std::uint32_t>("metadata"), 8, "metadata");
        for (std::uint32_t e = 0; e < entries; ++e) {
            std::string key = in.get_string("metadata");
            std::string value = in.get_string("metadata");
            if (!image.metadata.empty() && key <= image.metadata.rbegin()->first)
                throw in.corrupt("metadata key \"" + key + "\" is not after \"" +
                                 image.metadata.rbegin()->first + "\"");
            image.metadata.emplace_hint(image.metadata.end(), std::move(key), std::move(value));
        }
    }
    if (const std::string fault = architecture_fault(a); !fault.empty()) throw in.corrupt(fault);
    const std::size_t scalar_size = scalar == 'f' ? 4 : 8;
    image.parameter_count = in.template get<std::uint64_t>("header");
    if (image.parameter_count != in.remaining() / scalar_size || in.remaining() % scalar_size != 0)
        throw in.corrupt("the file announces " + std::to_string(image.parameter_count) +
                         " parameters and holds " + std::to_string(in.remaining()) + " bytes of them");
    image.parameters = in.get_bytes(in.remaining(), "parameters");
    return image;
}

// θ of a checked payload, in its own scalar type Scalar.
template <FileFormat Format, std::floating_point Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, 1> get_parameters(const ModelImage& image, const std::string& name) {
    Eigen::Matrix<Scalar, Eigen::Dynamic, 1> theta(static_cast<Eigen::Index>(image.parameter_count));
    ByteReader<Format> in(image.parameters, image.order, name);
    in.get(theta.data(), static_cast<std::size_t>(theta.size()), "parameters");
    return theta;
}

// θ of a checked payload in double.
template <FileFormat Format>
Eigen::VectorXd get_parameters_as_double(const ModelImage& image, const std::string& name) {
    if (image.architecture.scalar == "double") return get_parameters<Format, double>(image, name);
    return get_parameters<Format, float>(image, name).template cast<double>();
}

// The model file `bytes` (named `name` in messages), checked: frame and payload.
// throws: not_a_model_file_error, corrupt_model_file_error, model_version_error.
inline ModelImage decode_model(std::string_view bytes, const std::string& name) {
    auto frame = open_frame<ModelFileFormat>(bytes, name);
    return get_model(frame.payload, frame.version);
}

template <class Scalar>
void check_scalar(const ModelImage& image, const std::string& name) {
    const std::string& theirs = image.architecture.scalar;
    if (theirs != scalar_name<Scalar>())
        throw scalar_type_mismatch_error(name + ": the file holds " + theirs +
                                         " parameters, this network is " + scalar_name<Scalar>() +
                                         " (load it into Net::rebind<" + theirs + ">)");
}

template <class Net>
concept SavableNetwork = requires(Net& net, const Net& c) {
    typename Net::Scalar;
    { c.architecture() } -> std::convertible_to<Architecture>;
    {c.parameters()};
    net.parameters() = c.parameters();
};

// A network type that load<Net> can build from a file's sizes.
template <class Net>
concept LoadableNetwork = SavableNetwork<Net> &&
    std::constructible_from<Net, std::span<const Eigen::Index>> && requires(Net& net) {
    { Net::depth } -> std::convertible_to<std::size_t>;
    net.template layer<0>();
};

template <class Net, std::size_t K>
using layer_type = std::remove_cvref_t<decltype(std::declval<Net&>().template layer<K>())>;

// How many parameters Net has with the sizes of `a`: each layer counts its own, and nothing is
// allocated, so a file that claims huge layers costs nothing before it is refused.
template <class Net, std::size_t... K>
std::uint64_t parameter_count(const Architecture& a, std::index_sequence<K...>) {
    return (static_cast<std::uint64_t>(
                layer_type<Net, K>(a.layers[K].inputs, a.layers[K].outputs).parameter_count()) +
            ...);
}

}  // namespace detail

// Writes net's architecture, θ and `metadata` to `path`, atomically: a reader or a crash sees
// the old file or the new one, never half of one.
// ensures: load(net', path) into a network of the same architecture gives θ' = θ, bit for bit.
// throws: io_error naming the path, the step and errno's text (directory missing, path a
//         directory, disk full); the old file, if any, is then intact. argument_error for a
//         layer whose kind or activation is not a name (lowercase letters, digits, _).
template <detail::SavableNetwork Net>
void save(const Net& net, const std::filesystem::path& path, const ModelMetadata& metadata = {}) {
    const auto theta = net.parameters();
    detail::atomic_write(path, detail::encode_model(net.architecture(), metadata, theta.data(),
                                                    static_cast<std::size_t>(theta.size())));
}

// Writes `model` to `path` as save() does, θ in model.architecture.scalar.
// throws: as save; argument_error for an architecture that is not sound (no layers, sizes that
//         do not chain, an unknown scalar type).
inline void save_model(const ModelData& model, const std::filesystem::path& path) {
    const Architecture& a = model.architecture;
    const auto count = static_cast<std::size_t>(model.parameters.size());
    constexpr auto order = std::endian::native;
    if (a.scalar == "float") {
        const Eigen::VectorXf theta = model.parameters.cast<float>();
        detail::atomic_write(
            path, detail::encode_model(a, model.metadata, theta.data(), count, order, "save_model"));
    } else {
        detail::atomic_write(path, detail::encode_model(a, model.metadata, model.parameters.data(), count,
                                                        order, "save_model"));
    }
}

// Reads θ from `path` into `net`, whose architecture and scalar type must be the file's.
// ensures: on a throw, net is unchanged (the file is read and checked in full first).
// throws: io_error (missing, unreadable), not_a_model_file_error (wrong magic),
//         corrupt_model_file_error (checksum, sizes, a parameter count that is not the
//         network's), model_version_error (a newer format), scalar_type_mismatch_error (float
//         vs double), architecture_mismatch_error naming both architectures (describe()).
template <detail::SavableNetwork Net>
void load(Net& net, const std::filesystem::path& path) {
    using Scalar = typename Net::Scalar;
    const std::string name = path.string();
    const std::string bytes = detail::read_file(path);
    const auto image = detail::decode_model(bytes, name);
    detail::check_scalar<Scalar>(image, name);
    const Architecture mine = net.architecture();
    if (image.architecture != mine)
        throw architecture_mismatch_error(name + ": file has " + describe(image.architecture) +
                                          ", this network is " + describe(mine));
    if (image.parameter_count != static_cast<std::uint64_t>(net.parameters().size()))
        throw corrupt_model_file_error(
            name + ": corrupt model file: it holds " + std::to_string(image.parameter_count) +
            " parameters where its architecture has " + std::to_string(net.parameters().size()));
    net.parameters() = detail::get_parameters<detail::ModelFileFormat, Scalar>(image, name);
}

// A new network of type Net with the sizes and θ of the file at `path`.
// requires: Net's layer kinds and activations, head and scalar type are the file's (its sizes
//           come from the file).
// throws: as load(net, path).
template <detail::LoadableNetwork Net>
Net load(const std::filesystem::path& path) {
    using Scalar = typename Net::Scalar;
    const std::string name = path.string();
    const std::string bytes = detail::read_file(path);
    const auto image = detail::decode_model(bytes, name);
    detail::check_scalar<Scalar>(image, name);
    const Architecture& file = image.architecture;
    if (file.layers.size() != Net::depth)
        throw architecture_mismatch_error(name + ": file has " + describe(file) + ", of " +
                                          std::to_string(file.layers.size()) +
                                          " layers, this network type has " + std::to_string(Net::depth));
    // What Net is with the file's sizes: its own architecture (kinds, activations, head) from a
    // network of width 1, with the sizes put in.
    const std::vector<Eigen::Index> ones(Net::depth + 1, 1);
    Architecture type = Net(std::span<const Eigen::Index>(ones)).architecture();
    for (std::size_t k = 0; k < Net::depth; ++k) {
        type.layers[k].inputs = file.layers[k].inputs;
        type.layers[k].outputs = file.layers[k].outputs;
    }
    if (file != type)
        throw architecture_mismatch_error(name + ": file has " + describe(file) + ", this network type is " +
                                          describe(type));
    const auto count = detail::parameter_count<Net>(file, std::make_index_sequence<Net::depth>{});
    if (image.parameter_count != count)
        throw corrupt_model_file_error(name + ": corrupt model file: it holds " +
                                       std::to_string(image.parameter_count) +
                                       " parameters where its architecture has " + std::to_string(count));
    std::vector<Eigen::Index> sizes{file.layers.front().inputs};
    for (const auto& layer : file.layers) sizes.push_back(layer.outputs);
    const std::span<const Eigen::Index> view(sizes);
    Net net(view);
    net.parameters() = detail::get_parameters<detail::ModelFileFormat, Scalar>(image, name);
    return net;
}

// What the model file at `path` holds, without reading θ into memory (the file is still read
// and checked whole: a damaged file is refused).
// throws: io_error, not_a_model_file_error, corrupt_model_file_error, model_version_error.
inline Architecture read_architecture(const std::filesystem::path& path) {
    const std::string name = path.string();
    return detail::decode_model(detail::read_file(path), name).architecture;
}

// The model file at `path` as plain data, for a network built from its architecture. The
// layers' kinds are as the file names them: the network built from them judges whether it
// knows each, and whether θ has its size.
// throws: as read_architecture.
inline ModelData load_model(const std::filesystem::path& path) {
    const std::string name = path.string();
    const std::string bytes = detail::read_file(path);
    auto image = detail::decode_model(bytes, name);
    Eigen::VectorXd theta = detail::get_parameters_as_double<detail::ModelFileFormat>(image, name);
    return {std::move(image.architecture), std::move(theta), std::move(image.metadata)};
}

}  // namespace descent
