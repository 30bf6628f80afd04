// Model files: save then load gives the same θ bit for bit and the same
// predictions; each way a file can be wrong is its own error, and a failed
// load leaves the network as it was; a failed save leaves the old file.
#include <descent/io/model_file.hpp>

#include <descent/activations/relu.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/mlp.hpp>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#if defined(__unix__)
#include <sys/resource.h>

#include <csignal>
#endif

#include "file_support.hpp"
#include "support.hpp"

using Catch::Matchers::Contains;
using descent::Dense;
using descent::Identity;
using descent::Mlp;
using descent::Relu;
using descent::Tanh;
using descent::test::contents;
using descent::test::message_of;
using descent::test::TempDir;

namespace {

template <class T>
using ReluNet = Mlp<Dense<Relu, T>, Dense<Identity, T>>;
template <class T>
using DeepNet = Mlp<Dense<Tanh, T>, Dense<Relu, T>, Dense<Identity, T>>;

// The bytes of a file saved on this machine, with `edit` applied and the
// CRC-32 recomputed (zlib's, independently of descent's), so that only the
// edited field is wrong.
std::string resealed(std::string bytes, void (*edit)(std::string&)) {
    edit(bytes);
    bytes.resize(bytes.size() - 4);
    const auto crc = static_cast<std::uint32_t>(crc32(
        crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
    char raw[4];
    std::memcpy(raw, &crc, 4);  // this machine's order, as the file's
    return bytes.append(raw, 4);
}

// Names in the directory (to find leftover temporary files).
std::vector<std::string> listing(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        names.push_back(entry.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

template <class Net>
bool same_parameters(const Net& a, const Net& b) {
    const auto pa = a.parameters();
    const auto pb = b.parameters();
    return pa.size() == pb.size() && std::memcmp(pa.data(), pb.data(), sizeof(pa[0]) * pa.size()) == 0;
}

}  // namespace

TEMPLATE_TEST_CASE("save then load gives identical parameters and predictions", "[model_file]", float,
                   double) {
    TempDir dir;
    const auto file = dir / "net.model";
    DeepNet<TestType> trained({6, 5, 4, 3}, 11);
    trained.parameters() = descent::test::pseudo_random<TestType>(trained.parameters().size(), 1, 5);
    descent::save(trained, file);
    CHECK(listing(dir.path()) == std::vector<std::string>{"net.model"});  // no temporary file left

    DeepNet<TestType> other({6, 5, 4, 3}, 99);
    REQUIRE_FALSE(same_parameters(trained, other));
    descent::load(other, file);
    CHECK(same_parameters(trained, other));
    const auto x = descent::test::pseudo_random<TestType>(6, 40, 8);
    CHECK(other.predict(x) == trained.predict(x));
    CHECK(other.forward(x) == trained.forward(x));

    const auto copy = descent::load<DeepNet<TestType>>(file);
    CHECK(copy.sizes() == std::vector<Eigen::Index>{6, 5, 4, 3});
    CHECK(same_parameters(trained, copy));

    // Saving again replaces the file.
    trained.initialize(3);
    descent::save(trained, file);
    descent::load(other, file);
    CHECK(same_parameters(trained, other));
    CHECK(listing(dir.path()) == std::vector<std::string>{"net.model"});
}

TEST_CASE("the model file has the documented layout", "[model_file]") {
    TempDir dir;
    ReluNet<float> net({8, 5, 3}, 1);
    descent::save(net, dir / "m");
    const std::string bytes = contents(dir / "m");
    // magic 12, byte order 1, version 4, scalar 1, layer count 4,
    // 2 layers of (1 + 5 "dense") + (1 + 4 "relu" or 8 "identity") + 8 + 8, count 8,
    // 8·5 + 5 + 5·3 + 3 = 63 floats, CRC 4
    CHECK(bytes.size() == 12 + 1 + 4 + 1 + 4 + (6 + 5 + 16) + (6 + 9 + 16) + 8 + 63 * 4 + 4);
    CHECK(bytes.substr(0, 12) == std::string("\x89"
                                             "descent\r\n\x1A\n"));
    CHECK(bytes[12] == (std::endian::native == std::endian::little ? 'L' : 'B'));
    CHECK(bytes[17] == 'f');
    CHECK(bytes.substr(23, 5) == "dense");
    CHECK(bytes.substr(29, 4) == "relu");
    float first;
    std::memcpy(&first, bytes.data() + bytes.size() - 4 - 63 * 4, 4);
    CHECK(first == net.parameters()(0));
}

TEMPLATE_TEST_CASE("a file written in the other byte order loads the same", "[model_file]", float, double) {
    TempDir dir;
    ReluNet<TestType> net({7, 4, 2}, 5);
    constexpr auto other_order =
        std::endian::native == std::endian::little ? std::endian::big : std::endian::little;
    const auto theta = net.parameters();
    const std::string swapped = descent::detail::encode_model(
        descent::detail::manifest(net), theta.data(), static_cast<std::size_t>(theta.size()), other_order);
    CHECK(swapped[12] == (other_order == std::endian::little ? 'L' : 'B'));
    const auto file = dir.write("swapped", swapped);
    CHECK(contents(file) != (descent::save(net, dir / "native"), contents(dir / "native")));
    ReluNet<TestType> loaded({7, 4, 2}, 6);
    descent::load(loaded, file);
    CHECK(same_parameters(net, loaded));
}

TEST_CASE("a model of another architecture is an architecture_mismatch_error naming both", "[model_file]") {
    TempDir dir;
    const auto file = dir / "fashion.model";
    descent::save(ReluNet<float>({784, 128, 10}, 1), file);

    ReluNet<float> wider({784, 256, 10}, 2);
    const ReluNet<float> before = wider;
    CHECK(message_of<descent::architecture_mismatch_error>([&] { descent::load(wider, file); }) ==
          file.string() + ": file has 784-128-10 relu, this network is 784-256-10 relu");
    CHECK(same_parameters(wider, before));

    Mlp<Dense<Tanh, float>, Dense<Identity, float>> tanh_net({784, 128, 10}, 3);
    CHECK(message_of<descent::architecture_mismatch_error>([&] { descent::load(tanh_net, file); }) ==
          file.string() + ": file has 784-128-10 relu, this network is 784-128-10 tanh");
    DeepNet<float> deeper({784, 128, 64, 10}, 4);
    CHECK(message_of<descent::architecture_mismatch_error>([&] { descent::load(deeper, file); }) ==
          file.string() + ": file has 784-128-10 relu, this network is 784-128-64-10 tanh,relu");
    CHECK(message_of<descent::architecture_mismatch_error>([&] { descent::load<DeepNet<float>>(file); }) ==
          file.string() + ": file has 784-128-10 relu, this network type is *-*-*-* tanh,relu");
    Mlp<Dense<Identity, float>> softmax_regression({784, 10}, 5);
    CHECK_THAT(
        message_of<descent::architecture_mismatch_error>([&] { descent::load(softmax_regression, file); }),
        Contains("this network is 784-10"));
}

TEST_CASE("a damaged or truncated file is a corrupt_model_file_error", "[model_file]") {
    TempDir dir;
    const auto good = dir / "good";
    ReluNet<double> saved({5, 4, 3}, 1);
    descent::save(saved, good);
    const std::string bytes = contents(good);
    ReluNet<double> net({5, 4, 3}, 2);
    const auto before = net;
    auto check_corrupt = [&](const std::string& damaged, const std::string& expected) {
        const auto file = dir.write("damaged", damaged);
        CHECK_THAT(message_of<descent::corrupt_model_file_error>([&] { descent::load(net, file); }),
                   Contains(file.string() + ": corrupt model file: " + expected));
        CHECK(same_parameters(net, before));
    };
    std::string flipped = bytes;
    flipped[bytes.size() - 20] ^= 0x01;  // one bit of θ
    check_corrupt(flipped, "the CRC-32 does not match its content");
    check_corrupt(bytes.substr(0, bytes.size() - 1), "the CRC-32 does not match");
    check_corrupt(bytes.substr(0, bytes.size() / 2), "the CRC-32 does not match");
    check_corrupt(bytes + "x", "the CRC-32 does not match");
    check_corrupt(bytes.substr(0, 19), "truncated to 19 bytes, shorter than any model file");
    check_corrupt(bytes.substr(0, 5), "truncated to 5 bytes, inside the magic number");
    // Consistent checksums, inconsistent content: what a writer bug would produce.
    check_corrupt(resealed(bytes, [](std::string& b) { b[12] = 'X'; }), "the byte order is neither");
    check_corrupt(resealed(bytes, [](std::string& b) { b[17] = 'h'; }), "unknown scalar type code");
    check_corrupt(
        resealed(bytes, [](std::string& b) { b.resize(b.size() - 12); }),
        "the manifest 5-4-3 relu needs 39 parameters, the file announces 39 and holds 300 bytes of them");
    // 22 bytes of header, 27 of layer 1, then layer 2 cut inside its activation name
    check_corrupt(resealed(bytes, [](std::string& b) { b.resize(22 + 27 + 7 + 5 + 4); }),
                  "it ends inside the layer manifest");
    check_corrupt(resealed(bytes, [](std::string& b) { b.resize(40); }), "2 layers do not fit in the file");
    check_corrupt(resealed(bytes, [](std::string& b) { b[13] = b[14] = b[15] = b[16] = 0; }),
                  "format version 0 does not exist");
}

TEST_CASE("a file of a newer format version is a model_version_error", "[model_file]") {
    TempDir dir;
    ReluNet<float> net({4, 3, 2}, 1);
    descent::save(net, dir / "m");
    const auto newer = dir.write("newer", resealed(contents(dir / "m"), [](std::string& b) {
                                     const std::uint32_t two = 2;
                                     std::memcpy(b.data() + 13, &two, 4);
                                 }));
    const auto before = net;
    CHECK(message_of<descent::model_version_error>([&] { descent::load(net, newer); }) ==
          newer.string() +
              ": model file format version 2 is newer than this descent reads (up to version 1); "
              "load it with a newer descent");
    CHECK(same_parameters(net, before));
    // The checksum comes first: a damaged file is not mistaken for a newer one.
    std::string damaged = contents(newer);
    damaged[13] = 7;
    const auto file = dir.write("damaged", damaged);
    CHECK_THROWS_AS(descent::load(net, file), descent::corrupt_model_file_error);
}

TEST_CASE("float parameters into a double network is a scalar_type_mismatch_error", "[model_file]") {
    TempDir dir;
    descent::save(ReluNet<float>({4, 3, 2}, 1), dir / "f");
    descent::save(ReluNet<double>({4, 3, 2}, 1), dir / "d");
    ReluNet<double> net({4, 3, 2}, 2);
    const auto before = net;
    CHECK(message_of<descent::scalar_type_mismatch_error>([&] { descent::load(net, dir / "f"); }) ==
          (dir / "f").string() +
              ": the file holds float parameters, this network is double (load it into "
              "Net::rebind<float>)");
    CHECK(same_parameters(net, before));
    CHECK_THROWS_AS(descent::load<ReluNet<float>>(dir / "d"), descent::scalar_type_mismatch_error);
    // the right type loads
    const auto as_float = descent::load<ReluNet<double>::rebind<float>>(dir / "f");
    CHECK(as_float.parameters() == ReluNet<float>({4, 3, 2}, 1).parameters());
}

TEST_CASE("not a model file, or no file at all", "[model_file]") {
    TempDir dir;
    ReluNet<float> net({4, 3, 2}, 1);
    const auto before = net;
    const auto text = dir.write("notes.txt", "label,pixel1,pixel2\n1,2,3\n");
    CHECK(message_of<descent::not_a_model_file_error>([&] { descent::load(net, text); }) ==
          text.string() + ": not a descent model file (wrong magic number)");
    const auto empty = dir.write("empty", "");
    CHECK(message_of<descent::not_a_model_file_error>([&] { descent::load(net, empty); }) ==
          empty.string() + ": not a descent model file (wrong magic number; the file is empty)");
    const auto missing = dir / "missing.model";
    CHECK(message_of<descent::io_error>([&] { descent::load(net, missing); }) ==
          "cannot open " + missing.string() + ": No such file or directory");
    CHECK(message_of<descent::io_error>([&] { descent::load(net, dir.path()); }) ==
          "cannot read " + dir.path().string() + ": Is a directory");
    CHECK(same_parameters(net, before));
}

TEST_CASE("a failed save throws an io_error and leaves the old file and no temporary file", "[model_file]") {
    TempDir dir;
    ReluNet<float> net({4, 3, 2}, 1);
    SECTION("the directory does not exist") {
        const auto file = dir / "no" / "such" / "net.model";
        CHECK_THAT(message_of<descent::io_error>([&] { descent::save(net, file); }),
                   Contains("cannot save " + file.string() + ": cannot create the temporary file " +
                            (dir / "no" / "such").string() + "/.net.model.tmp-") &&
                       Contains(": No such file or directory"));
        CHECK(listing(dir.path()).empty());
    }
    SECTION("the path is a directory") {
        const auto target = dir / "models";
        std::filesystem::create_directory(target);
        dir.write("models/keep", "kept");
        CHECK_THAT(message_of<descent::io_error>([&] { descent::save(net, target); }),
                   Contains("cannot save " + target.string() + ": cannot rename " + dir.path().string() +
                            "/.models.tmp-") &&
                       Contains("over it: Is a directory"));
        CHECK(listing(dir.path()) == std::vector<std::string>{"models"});
        CHECK(contents(target / "keep") == "kept");
    }
#if defined(__unix__)
    SECTION("the disk refuses the write midway (a file size limit): the old model stays") {
        const auto file = dir / "net.model";
        descent::save(net, file);
        const std::string old_bytes = contents(file);
        ReluNet<float> big({300, 100, 10}, 2);  // 31110 parameters: far past the limit below

        rlimit saved_limit{};
        REQUIRE(getrlimit(RLIMIT_FSIZE, &saved_limit) == 0);
        rlimit small = saved_limit;
        small.rlim_cur = 4096;
        const auto saved_handler = std::signal(SIGXFSZ, SIG_IGN);  // a failed write, not a killed process
        REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
        std::string message;
        try {
            descent::save(big, file);
        } catch (const descent::io_error& e) {
            message = e.what();
        }
        setrlimit(RLIMIT_FSIZE, &saved_limit);
        std::signal(SIGXFSZ, saved_handler);

        CHECK_THAT(message, Contains("cannot save " + file.string() + ": cannot write ") &&
                                Contains("File too large"));
        CHECK(contents(file) == old_bytes);
        CHECK(listing(dir.path()) == std::vector<std::string>{"net.model"});
        ReluNet<float> reloaded({4, 3, 2}, 3);
        descent::load(reloaded, file);
        CHECK(same_parameters(reloaded, net));
    }
#endif
}
