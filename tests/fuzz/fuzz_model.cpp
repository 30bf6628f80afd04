// libFuzzer harness of the model loader (io/model_file.hpp): descent::load into
// a fixed small network, descent::load<Net> taking the sizes from the file,
// load_network<float> and <double> (io/load_network.hpp) building a Network of
// any depth from it, and read_architecture and load_model, which build nothing.
//
// A model file ends with the CRC-32 of everything before it, which random
// mutations almost never keep right, so each input is loaded twice: as it is
// (the checksum path), and with its last 4 bytes replaced by the right CRC-32
// in the byte order the file declares (so that the mutations reach the
// manifest and the parameter count).
//
// Promised: a model_file_error, with the network unchanged (the strong
// guarantee), or a network that saves back to the very same bytes (a file of
// version 2; one of version 1 saves as version 2 with the same content);
// read_architecture and load_model agree with each other and with load;
// load_network gives a network of the file's architecture and θ exactly when
// the file is sound, dense, and of its scalar type; never
// another exception, a crash, a leak, a hang, or an allocation sized by the
// manifest's word alone.
#include <bit>
#include <cstdint>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/io/load_network.hpp>
#include <descent/io/model_file.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"

namespace {

using Small = descent::Mlp<descent::Dense<descent::Relu, float>, descent::Dense<descent::Identity, float>>;
using Deep = descent::Mlp<descent::Dense<descent::Tanh, double>, descent::Dense<descent::Tanh, double>,
                          descent::Dense<descent::Identity, double>>;

std::endian order_of(std::string_view bytes) {
    return bytes[12] == 'B' ? std::endian::big : std::endian::little;
}

// The file's content as plain data, decoded from bytes in memory.
descent::ModelData model_of(std::string_view bytes) {
    const std::string name = "fuzz";
    auto image = descent::detail::decode_model(bytes, name);
    auto theta = descent::detail::get_parameters_as_double<descent::detail::ModelFileFormat>(image, name);
    return {image.architecture, std::move(theta), image.metadata};
}

// A file that loads is what saving the network back writes, in the file's byte order, with
// the file's metadata: the loader accepts no slack (trailing bytes, a count that disagrees,
// keys out of order). A file of version 1 gives the same content as version 2.
template <class Net>
void check_round_trip(const Net& net, std::string_view bytes, const descent::ModelData& model) {
    const auto theta = net.parameters();
    const std::string saved =
        descent::detail::encode_model(net.architecture(), model.metadata, theta.data(),
                                      static_cast<std::size_t>(theta.size()), order_of(bytes));
    const bool big = order_of(bytes) == std::endian::big;
    const bool version_2 = bytes[big ? 16 : 13] == 2;  // it loaded: version 1 or 2
    if (version_2)
        DESCENT_FUZZ_CHECK(saved == bytes);
    else
        DESCENT_FUZZ_CHECK(model_of(saved) == model);
}

void load_all(const std::string& path, std::string_view bytes) {
    // read_architecture and load_model read the same files; a file either reads as plain data
    // and encodes back to itself as data, or is refused by both.
    std::optional<descent::ModelData> model;
    try {
        model = descent::load_model(path);
    } catch (const descent::model_file_error&) {
    }
    try {
        const auto architecture = descent::read_architecture(path);
        DESCENT_FUZZ_CHECK(model && model->architecture == architecture);
    } catch (const descent::model_file_error&) {
        DESCENT_FUZZ_CHECK(!model);
    }
    if (model) {
        std::string again;
        try {
            if (model->architecture.scalar == "float") {
                const Eigen::VectorXf theta = model->parameters.cast<float>();
                again = descent::detail::encode_model(model->architecture, model->metadata, theta.data(),
                                                      static_cast<std::size_t>(theta.size()));
            } else {
                again = descent::detail::encode_model(model->architecture, model->metadata,
                                                      model->parameters.data(),
                                                      static_cast<std::size_t>(model->parameters.size()));
            }
        } catch (const descent::argument_error&) {
            DESCENT_FUZZ_CHECK(false);  // what reads must write
        }
        DESCENT_FUZZ_CHECK(model_of(again) == *model);
    }

    // load_network: a Network of the file's content, or a model_file_error; the metadata it
    // fills stays as it was on a throw.
    descent::ModelMetadata metadata{{"kept", "yes"}};
    try {
        const auto net = descent::load_network<float>(path, metadata);
        DESCENT_FUZZ_CHECK(model && model->architecture == net.architecture());
        DESCENT_FUZZ_CHECK(model->metadata == metadata);
        check_round_trip(net, bytes, *model);
    } catch (const descent::model_file_error&) {
        const descent::ModelMetadata kept{{"kept", "yes"}};
        DESCENT_FUZZ_CHECK(metadata == kept);
    }
    try {
        const auto net = descent::load_network<double>(path);
        DESCENT_FUZZ_CHECK(model && model->architecture == net.architecture());
        check_round_trip(net, bytes, *model);
    } catch (const descent::model_file_error&) {
    }

    static Small small({3, 4, 2}, 7);
    const Small::Vector before = small.parameters();
    try {
        descent::load(small, path);
        DESCENT_FUZZ_CHECK(model.has_value());
        check_round_trip(small, bytes, *model);
    } catch (const descent::model_file_error&) {
        DESCENT_FUZZ_CHECK(small.parameters() == before);  // bit for bit
    }
    small.parameters() = before;
    try {
        const auto loaded = descent::load<Small>(path);
        DESCENT_FUZZ_CHECK(model.has_value());
        check_round_trip(loaded, bytes, *model);
    } catch (const descent::model_file_error&) {
    }
    try {
        const auto loaded = descent::load<Deep>(path);
        DESCENT_FUZZ_CHECK(model.has_value());
        check_round_trip(loaded, bytes, *model);
    } catch (const descent::model_file_error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static descent::fuzz::MemoryFile file;
    std::string bytes(descent::fuzz::as_text(data, size));
    load_all(file.hold(bytes), bytes);
    if (bytes.size() >= 4 + 13) {
        std::string_view body(bytes.data(), bytes.size() - 4);
        const std::uint32_t crc = descent::detail::crc32(body);
        const bool big = bytes[12] == 'B';  // the byte order mark follows the 12-byte magic
        for (int i = 0; i < 4; ++i)
            bytes[body.size() + static_cast<std::size_t>(i)] =
                static_cast<char>(crc >> (big ? 24 - 8 * i : 8 * i));
        load_all(file.hold(bytes), bytes);
    }
    return 0;
}
