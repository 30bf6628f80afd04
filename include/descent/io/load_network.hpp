#pragma once
// Loading any saved model, with no network type known at compile time:
//
//   descent::Network<float> net = descent::load_network("fashion.model");
//   descent::ModelMetadata metadata;
//   auto exact = descent::load_network<double>("regression.model", metadata);
//
// The file says what the network is (io/model_file.hpp: every layer's kind, sizes, activation and
// dropout rate, the head, the scalar type), and Network<Scalar> (network.hpp) is built from that.
// A hostile file costs little: the codec refuses a depth its bytes cannot hold, and θ's size is
// checked against the file's layers before the network is made, so that nothing is allocated
// beyond a few times the file's size (θ and ∇θ of the size the file holds, and its buffers).
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>

#include "../architecture.hpp"
#include "../detail/file.hpp"
#include "../error.hpp"
#include "../network.hpp"
#include "model_file.hpp"

namespace descent {

namespace detail {

// The number of parameters of the dense layers of `a`, Σ_k H_k (H_(k-1) + 1) (W(k) and b(k)),
// or 2^64 − 1 for any count from there on: sizes up to 2^32 − 1 can overflow 64 bits in a product,
// and a sum of them must saturate rather than wrap round to the size of a small θ.
inline std::uint64_t dense_parameter_count(const Architecture& a) {
    constexpr std::uint64_t most = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t total = 0;
    for (const LayerSpec& l : a.layers) {
        const auto in = static_cast<std::uint64_t>(l.inputs) + 1;
        const auto out = static_cast<std::uint64_t>(l.outputs);
        if (in > (most - total) / out) return most;  // total + out·in ≥ 2^64 − 1
        total += out * in;
    }
    return total;
}

}  // namespace detail

// A new Network<Scalar> with the architecture, dropout rates and θ of the model file at `path`,
// its metadata in `metadata`.
// requires: nothing of the file; Scalar must be the file's scalar type.
// ensures: θ bit for bit as saved; the dropout engine seeded as Network(architecture, 0) seeds
//          it; on a throw, `metadata` is unchanged.
// throws: io_error (missing, unreadable), not_a_model_file_error, corrupt_model_file_error
//         (checksum, sizes, a depth the file cannot hold, θ of another size than the layers'),
//         model_version_error (a newer format), scalar_type_mismatch_error (a double file into
//         load_network<float> or back: it names the load_network to call),
//         architecture_mismatch_error (a layer kind, activation or head Network does not know,
//         such as a kind a later descent adds).
template <std::floating_point Scalar = float>
Network<Scalar> load_network(const std::filesystem::path& path, ModelMetadata& metadata) {
    const std::string name = path.string();
    const std::string bytes = detail::read_file(path);
    auto image = detail::decode_model(bytes, name);
    const Architecture& file = image.architecture;
    const char* mine = detail::scalar_name<Scalar>();
    if (file.scalar != mine)
        throw scalar_type_mismatch_error(name + ": the file holds " + file.scalar +
                                         " parameters, load_network<" + mine + "> builds a " + mine +
                                         " network (call load_network<" + file.scalar + ">)");
    for (std::size_t k = 0; k < file.layers.size(); ++k)
        if (file.layers[k].kind != "dense")
            throw architecture_mismatch_error(
                name + ": layer " + std::to_string(k + 1) + " of " + std::to_string(file.layers.size()) +
                " is of kind \"" + file.layers[k].kind + "\", which Network does not know (dense)");
    // θ's size before the network: a file claiming 2^40 parameters holds far fewer.
    const std::uint64_t count = detail::dense_parameter_count(file);
    if (count != image.parameter_count)
        throw corrupt_model_file_error(
            name + ": corrupt model file: it holds " + std::to_string(image.parameter_count) +
            " parameters where " + describe(file) + " has " +
            (count == std::numeric_limits<std::uint64_t>::max() ? "2^64 or more" : std::to_string(count)));
    auto theta = detail::get_parameters<detail::ModelFileFormat, Scalar>(image, name);
    auto net = [&] {
        try {
            return Network<Scalar>(file);
        } catch (const error& e) {  // argument_error, shape_error: what Network cannot be
            throw architecture_mismatch_error(name + ": the file's " + describe(file) +
                                              " is no Network: " + e.what());
        }
    }();
    net.parameters() = theta;
    metadata = std::move(image.metadata);
    return net;
}

// As load_network(path, metadata), the metadata left unread.
template <std::floating_point Scalar = float>
Network<Scalar> load_network(const std::filesystem::path& path) {
    ModelMetadata unused;
    return load_network<Scalar>(path, unused);
}

}  // namespace descent
