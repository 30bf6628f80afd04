#pragma once
// Saving a trained network and loading it back.
//
//   descent::save(net, "fashion.model");
//   descent::load(other, "fashion.model");              // into a network of the same architecture
//   auto copy = descent::load<Net>("fashion.model");    // a new network, sizes from the file
//
// The file describes itself, so that loading it into the wrong network is an
// error that says what is wrong rather than a network that silently predicts
// garbage. Format version 1, every multi-byte field in the file's byte order:
//
//   bytes   field
//   12      magic            89 'd' 'e' 's' 'c' 'e' 'n' 't' '\r' '\n' 1A '\n' (as PNG's: the
//                            non-ASCII byte and the line ends catch text-mode transfers)
//   1       byte order       'L' little-endian, 'B' big-endian (the writer's own)
//   4       format version   1
//   1       scalar type      'f' IEEE-754 binary32 (float), 'd' binary64 (double)
//   4       layers           L + 1
//   per layer:
//     1+n   kind             length, then ASCII: "dense"
//     1+n   activation       length, then ASCII: Act::name ("relu", "identity", ...)
//     8     inputs           H_(k-1)
//     8     outputs          H_k
//   8       parameter count  Σ_k H_k (H_(k-1) + 1)
//   n·4|8   parameters       θ as Mlp::parameters() lays it out: W(1) column-major, b(1), W(2), ...
//   4       CRC-32           zlib's crc32 of every byte before it
//
// Frozen for every future version: the magic, the byte order, the version at
// offset 13 and a CRC-32 as the last 4 bytes. So a file is checked for damage
// before its version is believed, and a newer file is told apart from a
// corrupt one.
#include <zlib.h>

#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../detail/file.hpp"
#include "../error.hpp"
#include "../layers/dense.hpp"

namespace descent {

namespace detail {

inline constexpr char model_magic[12] = {'\x89', 'd', 'e', 's', 'c', 'e', 'n', 't', '\r', '\n', '\x1A', '\n'};
inline constexpr std::uint32_t model_format_version = 1;
inline constexpr std::size_t model_header_size = sizeof model_magic + 1 + 4;  // magic, byte order, version

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big,
              "descent's model files need a little- or big-endian machine");

// What the file says about one layer.
struct LayerRecord {
    std::string kind;
    std::string activation;
    std::uint64_t inputs = 0;
    std::uint64_t outputs = 0;
    bool operator==(const LayerRecord&) const = default;
};

// The kind a layer type is saved as. Only Dense exists so far; a new layer
// type adds its specialisation here (and its own parameter layout).
template <class L>
struct layer_kind;
template <class Act, class S, class I>
struct layer_kind<Dense<Act, S, I>> {
    static constexpr const char* name = "dense";
};

template <class Net, std::size_t K>
using layer_type = std::remove_cvref_t<decltype(std::declval<Net&>().template layer<K>())>;

template <std::floating_point Scalar>
constexpr char scalar_code() {
    static_assert(std::numeric_limits<Scalar>::is_iec559 && (sizeof(Scalar) == 4 || sizeof(Scalar) == 8),
                  "descent's model files hold IEEE-754 float or double parameters");
    return sizeof(Scalar) == 4 ? 'f' : 'd';
}
inline const char* scalar_name(char code) {
    return code == 'f' ? "float" : "double";
}

// The manifest as messages show it: "784-128-10 relu" (the output layer is
// always Dense<Identity>, so only the hidden activations are named).
// With `sizes` false, for a network type: "*-*-* relu".
inline std::string describe(const std::vector<LayerRecord>& layers, bool sizes = true) {
    if (layers.empty()) return "no layers";
    std::string text = sizes ? std::to_string(layers[0].inputs) : "*";
    for (const auto& layer : layers) {
        text += '-';
        text += sizes ? std::to_string(layer.outputs) : std::string("*");
    }
    const bool plain = std::ranges::all_of(layers, [](const auto& l) { return l.kind == "dense"; }) &&
                       layers.back().activation == "identity";
    if (!plain) {
        text += " (";
        for (std::size_t k = 0; k < layers.size(); ++k) {
            if (k > 0) text += ", ";
            text += layers[k].kind + " " + layers[k].activation;
        }
        return text + ")";
    }
    if (layers.size() == 1) return text;
    const auto& first = layers.front().activation;
    const bool same =
        std::all_of(layers.begin(), layers.end() - 1, [&](const auto& l) { return l.activation == first; });
    if (same) return text + " " + first;
    text += " ";
    for (std::size_t k = 0; k + 1 < layers.size(); ++k) {
        if (k > 0) text += ',';
        text += layers[k].activation;
    }
    return text;
}

// The manifest of a network type; sizes from `sizes` ({H_0, ..., H_(L+1)}), or 0.
template <class Net, std::size_t... K>
std::vector<LayerRecord> manifest(const std::vector<std::uint64_t>& sizes, std::index_sequence<K...>) {
    auto size = [&](std::size_t k) { return k < sizes.size() ? sizes[k] : 0; };
    return {LayerRecord{layer_kind<layer_type<Net, K>>::name, layer_type<Net, K>::activation::name, size(K),
                        size(K + 1)}...};
}
template <class Net>
std::vector<LayerRecord> manifest(const Net& net) {
    std::vector<std::uint64_t> sizes;
    for (const auto s : net.sizes()) sizes.push_back(static_cast<std::uint64_t>(s));
    return manifest<Net>(sizes, std::make_index_sequence<Net::depth>{});
}

// Fixed-size fields in a chosen byte order.
class ModelWriter {
public:
    explicit ModelWriter(std::endian order) : order_(order) {}
    template <class T>
    void put(T value) {
        char raw[sizeof(T)];
        std::memcpy(raw, &value, sizeof(T));
        if (order_ != std::endian::native) std::reverse(raw, raw + sizeof(T));
        bytes_.append(raw, sizeof(T));
    }
    void put_name(std::string_view name) {
        if (name.size() > 255)
            throw argument_error("save: name \"" + std::string(name) + "\" is over 255 bytes");
        put(static_cast<std::uint8_t>(name.size()));
        bytes_.append(name);
    }
    void put_raw(const void* data, std::size_t n) { bytes_.append(static_cast<const char*>(data), n); }
    std::string& bytes() { return bytes_; }

private:
    std::endian order_;
    std::string bytes_;
};

class ModelReader {
public:
    ModelReader(std::string_view bytes, std::endian order, const std::string& name)
        : bytes_(bytes), order_(order), name_(name) {}
    template <class T>
    T get(const char* what) {
        need(sizeof(T), what);
        char raw[sizeof(T)];
        std::memcpy(raw, bytes_.data() + at_, sizeof(T));
        if (order_ != std::endian::native) std::reverse(raw, raw + sizeof(T));
        at_ += sizeof(T);
        T value;
        std::memcpy(&value, raw, sizeof(T));
        return value;
    }
    std::string get_name(const char* what) {
        const std::size_t n = get<std::uint8_t>(what);
        need(n, what);
        std::string name(bytes_.substr(at_, n));
        at_ += n;
        return name;
    }
    std::size_t position() const { return at_; }
    std::size_t remaining() const { return bytes_.size() - at_; }
    void skip(std::size_t n) { at_ += n; }

private:
    void need(std::size_t n, const char* what) const {
        if (n > bytes_.size() - at_)
            throw corrupt_model_file_error(name_ + ": corrupt model file: it ends inside the " + what);
    }
    std::string_view bytes_;
    std::endian order_;
    std::string name_;
    std::size_t at_ = 0;
};

inline std::uint32_t crc32_of(std::string_view bytes) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (!bytes.empty()) {
        const auto n = static_cast<uInt>(std::min<std::size_t>(bytes.size(), 1u << 30));
        crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), n);
        bytes.remove_prefix(n);
    }
    return static_cast<std::uint32_t>(crc);
}

// A model file, checked and taken apart; `parameters` views the file's bytes.
struct ModelImage {
    std::endian order;
    char scalar;
    std::vector<LayerRecord> layers;
    std::uint64_t parameter_count;
    std::string_view parameters;
};

// throws: not_a_model_file_error, corrupt_model_file_error, model_version_error.
inline ModelImage decode_model(std::string_view bytes, const std::string& name) {
    auto corrupt = [&](const std::string& what) {
        return corrupt_model_file_error(name + ": corrupt model file: " + what);
    };
    const std::string_view magic(model_magic, sizeof model_magic);
    if (!bytes.empty() && bytes.size() < magic.size() && magic.starts_with(bytes))
        throw corrupt("truncated to " + std::to_string(bytes.size()) + " bytes, inside the magic number");
    if (!bytes.starts_with(magic))
        throw not_a_model_file_error(name + ": not a descent model file (wrong magic number" +
                                     (bytes.empty() ? std::string("; the file is empty)") : ")"));
    if (bytes.size() < model_header_size + 4)
        throw corrupt("truncated to " + std::to_string(bytes.size()) + " bytes, shorter than any model file");
    const char order_mark = bytes[sizeof model_magic];
    if (order_mark != 'L' && order_mark != 'B') throw corrupt("the byte order is neither 'L' nor 'B'");
    const std::endian order = order_mark == 'L' ? std::endian::little : std::endian::big;

    ModelReader trailer(bytes.substr(bytes.size() - 4), order, name);
    const auto stored = trailer.get<std::uint32_t>("checksum");
    const auto computed = crc32_of(bytes.substr(0, bytes.size() - 4));
    if (stored != computed)
        throw corrupt(
            "the CRC-32 does not match its content (the file was truncated, damaged or appended to)");

    ModelReader in(bytes.substr(0, bytes.size() - 4), order, name);
    in.skip(sizeof model_magic + 1);
    const auto version = in.get<std::uint32_t>("header");
    if (version == 0) throw corrupt("format version 0 does not exist");
    if (version > model_format_version)
        throw model_version_error(name + ": model file format version " + std::to_string(version) +
                                  " is newer than this descent reads (up to version " +
                                  std::to_string(model_format_version) + "); load it with a newer descent");

    ModelImage image{order, in.get<char>("header"), {}, 0, {}};
    if (image.scalar != 'f' && image.scalar != 'd') throw corrupt("unknown scalar type code");
    const auto depth = in.get<std::uint32_t>("header");
    if (depth == 0) throw corrupt("no layers");
    if (depth > in.remaining() / 18) throw corrupt(std::to_string(depth) + " layers do not fit in the file");
    std::uint64_t expected = 0;
    constexpr std::uint64_t limit =
        std::numeric_limits<std::uint32_t>::max();  // sizes beyond are not a model
    for (std::uint32_t k = 0; k < depth; ++k) {
        LayerRecord layer;
        layer.kind = in.get_name("layer manifest");
        layer.activation = in.get_name("layer manifest");
        layer.inputs = in.get<std::uint64_t>("layer manifest");
        layer.outputs = in.get<std::uint64_t>("layer manifest");
        if (layer.inputs == 0 || layer.outputs == 0 || layer.inputs > limit || layer.outputs > limit)
            throw corrupt("layer " + std::to_string(k + 1) + " has sizes " + std::to_string(layer.inputs) +
                          " -> " + std::to_string(layer.outputs));
        if (k > 0 && layer.inputs != image.layers.back().outputs)
            throw corrupt("layer " + std::to_string(k + 1) + " takes " + std::to_string(layer.inputs) +
                          " inputs but layer " + std::to_string(k) + " gives " +
                          std::to_string(image.layers.back().outputs));
        // Both sizes are below 2^32, so the product fits; bounded by the file's
        // size, the sum over at most size/18 layers fits too.
        const std::uint64_t count = layer.outputs * (layer.inputs + 1);
        if (count > bytes.size())
            throw corrupt("layer " + std::to_string(k + 1) + " of " + std::to_string(layer.inputs) + " -> " +
                          std::to_string(layer.outputs) + " needs more parameters than the file has bytes");
        expected += count;
        image.layers.push_back(std::move(layer));
    }
    image.parameter_count = in.get<std::uint64_t>("header");
    const std::size_t scalar_size = image.scalar == 'f' ? 4 : 8;
    if (image.parameter_count != expected || image.parameter_count > in.remaining() / scalar_size ||
        image.parameter_count * scalar_size != in.remaining())
        throw corrupt("the manifest " + describe(image.layers) + " needs " + std::to_string(expected) +
                      " parameters, the file announces " + std::to_string(image.parameter_count) +
                      " and holds " + std::to_string(in.remaining()) + " bytes of them");
    image.parameters = bytes.substr(in.position(), in.remaining());
    return image;
}

template <std::floating_point Scalar>
std::string encode_model(const std::vector<LayerRecord>& layers, const Scalar* theta, std::size_t count,
                         std::endian order) {
    ModelWriter out(order);
    out.put_raw(model_magic, sizeof model_magic);
    out.put(order == std::endian::little ? 'L' : 'B');
    out.put(model_format_version);
    out.put(scalar_code<Scalar>());
    out.put(static_cast<std::uint32_t>(layers.size()));
    for (const auto& layer : layers) {
        out.put_name(layer.kind);
        out.put_name(layer.activation);
        out.put(layer.inputs);
        out.put(layer.outputs);
    }
    out.put(static_cast<std::uint64_t>(count));
    if (order == std::endian::native)
        out.put_raw(theta, count * sizeof(Scalar));
    else
        for (std::size_t i = 0; i < count; ++i) out.put(theta[i]);
    out.put(crc32_of(out.bytes()));
    return std::move(out.bytes());
}

template <std::floating_point Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, 1> decode_parameters(const ModelImage& image, const std::string& name) {
    Eigen::Matrix<Scalar, Eigen::Dynamic, 1> theta(static_cast<Eigen::Index>(image.parameter_count));
    if (image.order == std::endian::native) {
        std::memcpy(theta.data(), image.parameters.data(), image.parameters.size());
    } else {
        ModelReader in(image.parameters, image.order, name);
        for (Eigen::Index i = 0; i < theta.size(); ++i) theta(i) = in.get<Scalar>("parameters");
    }
    return theta;
}

template <std::floating_point Scalar>
void check_scalar(const ModelImage& image, const std::string& name) {
    if (image.scalar != scalar_code<Scalar>())
        throw scalar_type_mismatch_error(name + ": the file holds " + scalar_name(image.scalar) +
                                         " parameters, this network is " +
                                         scalar_name(scalar_code<Scalar>()) + " (load it into Net::rebind<" +
                                         scalar_name(image.scalar) + ">)");
}

template <class Net>
concept SavableNetwork = requires(Net& net, const Net& c) {
    typename Net::scalar_type;
    { Net::depth } -> std::convertible_to<std::size_t>;
    {c.sizes()};
    {c.parameters()};
    net.parameters() = c.parameters();
    net.template layer<0>();
};

}  // namespace detail

// Writes net's architecture and θ to `path`, atomically: a reader or a crash
// sees the old file or the new one, never half of one.
// ensures: load(net', path) into a network of the same architecture gives θ' = θ, bit for bit.
// throws: io_error naming the path, the step and errno's text (directory missing,
//         path a directory, disk full); the old file, if any, is then intact.
template <detail::SavableNetwork Net>
void save(const Net& net, const std::filesystem::path& path) {
    const auto theta = net.parameters();
    detail::atomic_write(path,
                         detail::encode_model(detail::manifest(net), theta.data(),
                                              static_cast<std::size_t>(theta.size()), std::endian::native));
}

// Reads θ from `path` into `net`, whose architecture and scalar type must be the file's.
// ensures: on a throw, net is unchanged (the file is read and checked in full first).
// throws: io_error (missing, unreadable), not_a_model_file_error (wrong magic),
//         corrupt_model_file_error (checksum or sizes), model_version_error (a newer format),
//         scalar_type_mismatch_error (float vs double), architecture_mismatch_error
//         (naming both manifests: "file has 784-128-10 relu, this network is 784-256-10 relu").
template <detail::SavableNetwork Net>
void load(Net& net, const std::filesystem::path& path) {
    using Scalar = typename Net::scalar_type;
    const std::string name = path.string();
    const std::string bytes = detail::read_file(path);
    const auto image = detail::decode_model(bytes, name);
    detail::check_scalar<Scalar>(image, name);
    const auto mine = detail::manifest(net);
    if (image.layers != mine)
        throw architecture_mismatch_error(name + ": file has " + detail::describe(image.layers) +
                                          ", this network is " + detail::describe(mine));
    net.parameters() = detail::decode_parameters<Scalar>(image, name);
}

// A new network of type Net with the sizes and θ of the file at `path`.
// requires: Net's layer kinds and activations are the file's (its sizes come from the file).
// throws: as load(net, path).
template <detail::SavableNetwork Net>
Net load(const std::filesystem::path& path) {
    using Scalar = typename Net::scalar_type;
    const std::string name = path.string();
    const std::string bytes = detail::read_file(path);
    const auto image = detail::decode_model(bytes, name);
    detail::check_scalar<Scalar>(image, name);
    std::vector<std::uint64_t> sizes{image.layers.front().inputs};
    for (const auto& layer : image.layers) sizes.push_back(layer.outputs);
    const auto mine = detail::manifest<Net>(sizes, std::make_index_sequence<Net::depth>{});
    if (image.layers != mine)
        throw architecture_mismatch_error(name + ": file has " + detail::describe(image.layers) +
                                          ", this network type is " + detail::describe(mine, false));
    const std::vector<Eigen::Index> net_sizes(sizes.begin(), sizes.end());
    const std::span<const Eigen::Index> view(net_sizes);
    Net net(view);
    net.parameters() = detail::decode_parameters<Scalar>(image, name);
    return net;
}

}  // namespace descent
