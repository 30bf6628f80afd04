// The fuzzers' seed corpus, written at build time: make_seeds <dir> fills
// <dir>/idx, <dir>/csv, <dir>/model and <dir>/checkpoint with a few small good
// files and one of each way a file can be broken that the readers know of. A
// seed only has to lead the fuzzer to a code path quickly; libFuzzer mutates
// from there.
//
// Generated rather than committed: the files follow the formats as the
// library writes them today. The exception is the model files of format
// version 1, which today's library no longer writes: they are copied from
// tests/data/.
#include <cstdint>
#include <cstdio>
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/io/model_file.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

#include "checkpoint_run.hpp"
#include "fuzz_support.hpp"
#include "onnx_seeds.hpp"

namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write(const fs::path& file, const std::string& bytes) {
    std::ofstream out(file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        std::fprintf(stderr, "make_seeds: cannot write %s\n", file.string().c_str());
        std::exit(1);
    }
}

std::string big_endian(std::uint32_t value) {
    return {static_cast<char>(value >> 24), static_cast<char>(value >> 16), static_cast<char>(value >> 8),
            static_cast<char>(value)};
}

std::string idx(std::uint32_t magic, std::initializer_list<std::uint32_t> sizes, std::size_t payload,
                int step = 37) {
    std::string bytes = big_endian(magic);
    for (const auto s : sizes) bytes += big_endian(s);
    for (std::size_t i = 0; i < payload; ++i)
        bytes += static_cast<char>((i * static_cast<std::size_t>(step)) % 251);
    return bytes;
}

void idx_seeds(const fs::path& dir) {
    const std::string images = idx(0x803, {3, 2, 4}, 24);
    const std::string labels = idx(0x801, {5}, 0) + std::string("\0\1\2\3\11", 5);
    write(dir / "images", images);
    write(dir / "labels", labels);
    write(dir / "images.gz", descent::fuzz::gzip(images));
    write(dir / "labels.gz", descent::fuzz::gzip(labels));
    write(dir / "images-truncated", images.substr(0, images.size() - 5));
    write(dir / "images-trailing", images + "xyz");
    write(dir / "images-zero-count", idx(0x803, {0, 2, 4}, 0));
    write(dir / "images-huge", idx(0x803, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, 16));
    write(dir / "images-large-claim", idx(0x803, {60000, 28, 28}, 40));
    write(dir / "images-header-cut", images.substr(0, 9));
    write(dir / "labels-out-of-range", idx(0x801, {3}, 0) + std::string("\1\12\377", 3));
    write(dir / "wrong-type", idx(0x0D03, {1, 1, 1}, 4));
    write(dir / "wrong-dimensions", idx(0x802, {2, 2}, 4));
    write(dir / "not-idx", "\x1F\x8B garbage, not a gzip stream");
    const std::string gz = descent::fuzz::gzip(images);
    write(dir / "images-gz-cut", gz.substr(0, gz.size() / 2));
}

// The first 3 bytes are fuzz_csv's options (its header comment says which bit is what).
void csv_seeds(const fs::path& dir) {
    auto options = [](int column, int target_header, int delimiter_quote) {
        return std::string{static_cast<char>(column), static_cast<char>(target_header),
                           static_cast<char>(delimiter_quote)};
    };
    const std::string first_column = options(4, 0, 0);            // column 0, labels, autodetect, ','
    const std::string last_column_classes = options(3, 0x60, 0);  // column -1, labels < 3
    const std::string real_by_name = options(0x08, 0x01, 0);      // "y", real
    const std::string two_real = options(0x44, 0x11, 0);          // columns 0 and -1, real, double
    const std::string features_only = options(0x80, 0x02, 0);     // none, column 1 ignored
    const std::string sklearn = options(3, 0x10, 0);              // column -1, double: a counts line
    const std::string boston = options(0x18, 0x01, 0x08);         // "a", real, skip_rows 1
    const std::string whitespace = options(3, 0x01, 0x03);        // column -1, real, ' '
    const std::string quoted_single = options(0x28, 0x00, 0x04);  // "b", labels, quote '
    const std::string gzipped = options(4, 0x04, 0x40);           // header present, gzip
    write(dir / "plain", first_column + "1,0.5,2\n0,-1e3,3.25\n2,7,8\n");
    write(dir / "header", first_column + "label,a,b\n1,2,3\n0,4,5\n");
    write(dir / "crlf-bom", first_column + "\xEF\xBB\xBFy,a\r\n1,0.25\r\n0,1\r\n\r\n");
    write(dir / "last-column", last_column_classes + "0.5,1.5,1\n2.5,3.5,0\n");
    write(dir / "tabs-semicolons", options(4, 0, 1) + " 1 ;\t2.0 ; 3 \n0;4;5\n");
    write(dir / "sklearn-counts",
          sklearn + "3,2,setosa,versicolor,virginica\n5.1,3.5,0\n4.9,3.0,1\n6.3,3.3,2\n");
    write(dir / "real-by-name", real_by_name + "a,y,b\n1,21.6,2\n3,-0.5,4\n");
    write(dir / "two-real", two_real + "10,1,2,-20\n30,3,4,-40\n");
    write(dir / "features-only", features_only + "a,id,b\n1,17,2\n3,18,4\n");
    write(dir / "boston", boston + "2,1,,\n\"a\",\"b\",\"c d\"\n0.1,18,2\n0.2,0,3\n");
    write(dir / "whitespace", whitespace + "59 2  32.1\t101.0\r\n  48 1 21.6 87 \n");
    write(dir / "quoted",
          first_column + "\"first, second\",\"say \"\"hi\"\"\",\"two\nlines\",y\r\n\"1\", 2 ,\"3\",0\r\n");
    write(dir / "quoted-single", quoted_single + "'a;b',b\n'1.5','2'\n");
    write(dir / "gzipped", gzipped + descent::fuzz::gzip("y,a\n1,2\n0,3\n"));
    write(dir / "ragged", first_column + "1,2,3\n0,4\n");
    write(dir / "not-a-number", first_column + "1,2,3\n0,4,5kg\n");
    write(dir / "overflow", first_column + "1,1e999,3\n");
    write(dir / "non-finite", first_column + "1,nan,inf\n");
    write(dir / "negative-label", first_column + "-1,2,3\n");
    write(dir / "label-out-of-range", last_column_classes + "1,2,5\n");
    write(dir / "blank-inside", first_column + "1,2,3\n\n0,4,5\n");
    write(dir / "header-only", first_column + "y,a,b\n");
    write(dir / "empty", first_column);
    write(dir / "one-field", first_column + "1\n2\n");
    write(dir / "open-quote", first_column + "1,\"2\n3\n");
    write(dir / "after-quote", first_column + "1,\"2\"x\n");
    write(dir / "name-missing", real_by_name + "a,b\n1,2\n");
}

template <class Net>
std::string model_bytes(const Net& net, std::endian order, const descent::ModelMetadata& metadata = {}) {
    const auto theta = net.parameters();
    return descent::detail::encode_model(net.architecture(), metadata, theta.data(),
                                         static_cast<std::size_t>(theta.size()), order);
}

// A model file or checkpoint with its CRC-32 recomputed after `edit`, so that
// only the edit is wrong; the byte order mark is at `order_at`.
template <class Edit>
std::string resealed(std::string bytes, Edit edit, std::size_t order_at = 12) {
    bytes.resize(bytes.size() - 4);
    edit(bytes);
    const std::uint32_t crc = descent::detail::crc32(bytes);
    const bool big = bytes[order_at] == 'B';
    for (int i = 0; i < 4; ++i) bytes += static_cast<char>(crc >> (big ? 24 - 8 * i : 8 * i));
    return bytes;
}

void model_seeds(const fs::path& dir) {
    using descent::Dense;
    using descent::Identity;
    using Small = descent::Mlp<Dense<descent::Relu, float>, Dense<Identity, float>>;
    using Deep =
        descent::Mlp<Dense<descent::Tanh, double>, Dense<descent::Tanh, double>, Dense<Identity, double>>;
    const Small small({3, 4, 2}, 1);
    const Deep deep({2, 3, 2, 2}, 2);
    const std::string good = model_bytes(small, std::endian::little);
    write(dir / "small-little", good);
    write(dir / "small-big", model_bytes(small, std::endian::big));
    write(dir / "small-wider", model_bytes(Small({5, 2, 3}, 3), std::endian::little));
    write(dir / "deep-double", model_bytes(deep, std::endian::little));
    write(dir / "small-metadata", model_bytes(small, std::endian::big, {{"mean", "0.5"}, {"scale", "2"}}));
    {
        const auto theta = small.parameters();
        auto a = small.architecture();
        a.layers[1].kind = "conv";
        write(dir / "unknown-kind",
              descent::detail::encode_model(a, {}, theta.data(), static_cast<std::size_t>(theta.size())));
    }
    // Version 1, as tests/data/ holds it (written by the version-1 writer).
    const fs::path data = fs::path(__FILE__).parent_path().parent_path() / "data";
    for (const char* v1 : {"v1-3-4-2-relu-float-little.model", "v1-3-4-2-relu-float-big.model",
                           "v1-2-3-4-2-tanh-relu-double-little.model"})
        if (fs::exists(data / v1)) write(dir / v1, read(data / v1));
    // The payload of `good` (3-4-2 relu float): scalar at 17, head at 18 (4 + 21), layer count
    // at 43, layer 1 at 47 (33 bytes: names of 4 + 5 and 4 + 4, sizes), layer 2 at 80 (37
    // bytes), metadata count at 117, parameter count at 121, θ at 129.
    write(dir / "truncated", good.substr(0, good.size() - 9));
    write(dir / "magic-cut", good.substr(0, 7));
    std::string flipped = good;
    flipped[40] = static_cast<char>(flipped[40] ^ 0x10);
    write(dir / "bit-flipped", flipped);
    write(dir / "newer-version", resealed(good, [](std::string& b) { b[13] = 3; }));
    write(dir / "version-zero", resealed(good, [](std::string& b) { b[13] = 0; }));
    write(dir / "unknown-scalar", resealed(good, [](std::string& b) { b[17] = 'x'; }));
    write(dir / "no-layers", resealed(good, [](std::string& b) { b[43] = 0; }));
    write(dir / "many-layers", resealed(good, [](std::string& b) { b[46] = 0x7F; }));
    write(dir / "huge-layer", resealed(good, [](std::string& b) { b[47 + 17 + 8 + 4] = 0x7F; }));
    write(dir / "broken-chain", resealed(good, [](std::string& b) { b[80 + 21] = 5; }));
    write(dir / "metadata-count", resealed(good, [](std::string& b) { b[117] = 9; }));
    write(dir / "parameter-count", resealed(good, [](std::string& b) { b[121] = 99; }));
}

// Checkpoints of checkpoint_run.hpp's run, as fit writes them, and broken ones.
void checkpoint_seeds(const fs::path& dir) {
    const descent::fuzz::CheckpointRun run;
    for (const int epochs : {1, 2, 3}) {
        auto net = descent::fuzz::checkpoint_net();
        auto adam = descent::fuzz::checkpoint_optimizer();
        descent::fit(net, adam, run.x, run.y, run.options(dir / ("after-" + std::to_string(epochs)), epochs));
    }
    const std::string good = read(dir / "after-2");
    write(dir / "truncated", good.substr(0, good.size() - 11));
    write(dir / "magic-cut", good.substr(0, 9));
    std::string flipped = good;
    flipped[good.size() / 2] = static_cast<char>(flipped[good.size() / 2] ^ 0x04);
    write(dir / "bit-flipped", flipped);
    write(dir / "newer-version", resealed(
                                     good, [](std::string& b) { b[18] = 3; }, 17));
    write(dir / "version-1", resealed(
                                 good, [](std::string& b) { b[18] = 1; }, 17));
    // The MODL section's model format version (after the 22-byte header, the tag and the length).
    write(dir / "model-version", resealed(
                                     good, [](std::string& b) { b[34] = 7; }, 17));
    write(dir / "big-endian-mark", resealed(
                                       good, [](std::string& b) { b[17] = 'B'; }, 17));
    write(dir / "unknown-section", resealed(
                                       good, [](std::string& b) { b[22] = 'X'; }, 17));
    write(dir / "long-section", resealed(
                                    good, [](std::string& b) { b[33] = 0x7F; }, 17));
    write(dir / "trailing", resealed(
                                good, [](std::string& b) { b += "tail"; }, 17));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_seeds <directory>\n");
        return 2;
    }
    const fs::path root = argv[1];
    for (const char* kind : {"idx", "csv", "model", "checkpoint", "onnx"})
        fs::create_directories(root / kind);
    idx_seeds(root / "idx");
    csv_seeds(root / "csv");
    model_seeds(root / "model");
    checkpoint_seeds(root / "checkpoint");
    descent::fuzz::onnx_seeds(root / "onnx");
    return 0;
}
