// libFuzzer harness of the model loader (io/model_file.hpp): descent::load into
// a fixed small network, and descent::load<Net> taking the sizes from the file.
//
// A model file ends with the CRC-32 of everything before it, which random
// mutations almost never keep right, so each input is loaded twice: as it is
// (the checksum path), and with its last 4 bytes replaced by the right CRC-32
// in the byte order the file declares (so that the mutations reach the
// manifest and the parameter count).
//
// Promised: a model_file_error, with the network unchanged (the strong
// guarantee), or a network that saves back to the very same bytes; never
// another exception, a crash, a leak, a hang, or an allocation sized by the
// manifest's word alone.
#include <bit>
#include <cstdint>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/io/model_file.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"

namespace {

using Small = descent::Mlp<descent::Dense<descent::Relu, float>, descent::Dense<descent::Identity, float>>;
using Deep = descent::Mlp<descent::Dense<descent::Tanh, double>, descent::Dense<descent::Tanh, double>,
                          descent::Dense<descent::Identity, double>>;

// A file that loads is exactly what saving the network back writes, in the
// file's byte order: the loader accepts no slack (trailing bytes, a count
// that disagrees, a name it does not know).
template <class Net>
void check_round_trip(const Net& net, std::string_view bytes) {
    const auto theta = net.parameters();
    const auto order = bytes[12] == 'B' ? std::endian::big : std::endian::little;
    DESCENT_FUZZ_CHECK(descent::detail::encode_model(descent::detail::manifest(net), theta.data(),
                                                     static_cast<std::size_t>(theta.size()), order) == bytes);
}

void load_all(const std::string& path, std::string_view bytes) {
    static Small small({3, 4, 2}, 7);
    const Small::Vector before = small.parameters();
    try {
        descent::load(small, path);
        check_round_trip(small, bytes);
    } catch (const descent::model_file_error&) {
        DESCENT_FUZZ_CHECK(small.parameters() == before);  // bit for bit
    }
    small.parameters() = before;
    try {
        check_round_trip(descent::load<Small>(path), bytes);
    } catch (const descent::model_file_error&) {
    }
    try {
        check_round_trip(descent::load<Deep>(path), bytes);
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
        const std::uint32_t crc = descent::detail::crc32_of(body);
        const bool big = bytes[12] == 'B';  // the byte order mark follows the 12-byte magic
        for (int i = 0; i < 4; ++i)
            bytes[body.size() + static_cast<std::size_t>(i)] =
                static_cast<char>(crc >> (big ? 24 - 8 * i : 8 * i));
        load_all(file.hold(bytes), bytes);
    }
    return 0;
}
