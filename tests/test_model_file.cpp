// Model files: save then load gives the same θ bit for bit and the same
// predictions; each way a file can be wrong is its own error, and a failed
// load leaves the network as it was; a failed save leaves the old file.
// Files of format version 1 (tests/data/) still load, θ bit for bit.
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <descent/activations/relu.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/io/model_file.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <filesystem>
#include <string>
#include <vector>

#if defined(__unix__)
#include <sys/resource.h>

#include <csignal>
#endif

#include "file_support.hpp"
#include "support.hpp"

using Catch::Matchers::Contains;
using descent::Architecture;
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
    descent::save(net, dir / "m", {{"note", "hi"}});
    const std::string bytes = contents(dir / "m");
    // magic 12, byte order 1, version 4, scalar 1, head 4 + 21, layer count 4,
    // 2 layers of (4 + 5 "dense") + (4 + 4 "relu" or 4 + 8 "identity") + 8 + 8 + 8 (dropout),
    // metadata 4 + (4 + 4 "note") + (4 + 2 "hi"), count 8, 8·5 + 5 + 5·3 + 3 = 63 floats, CRC 4
    CHECK(bytes.size() ==
          12 + 1 + 4 + 1 + 25 + 4 + (9 + 8 + 24) + (9 + 12 + 24) + 4 + 8 + 6 + 8 + 63 * 4 + 4);
    CHECK(bytes.substr(0, 12) == std::string("\x89"
                                             "descent\r\n\x1A\n"));
    CHECK(bytes[12] == (std::endian::native == std::endian::little ? 'L' : 'B'));
    std::uint32_t version;
    std::memcpy(&version, bytes.data() + 13, 4);
    CHECK(version == 2);
    CHECK(bytes[17] == 'f');
    CHECK(bytes.substr(22, 21) == "softmax_cross_entropy");
    CHECK(bytes.substr(51, 5) == "dense");
    CHECK(bytes.substr(60, 4) == "relu");
    CHECK(bytes.substr(bytes.size() - 4 - 63 * 4 - 8 - 6, 6) == std::string("\2\0\0\0hi", 6));
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
        net.architecture(), {}, theta.data(), static_cast<std::size_t>(theta.size()), other_order);
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
    const std::string saved = "784-128:relu-10 (softmax_cross_entropy, float)";

    ReluNet<float> wider({784, 256, 10}, 2);
    const ReluNet<float> before = wider;
    CHECK(message_of<descent::architecture_mismatch_error>([&] { descent::load(wider, file); }) ==
          file.string() + ": file has " + saved +
              ", this network is 784-256:relu-10 (softmax_cross_entropy, float)");
    CHECK(same_parameters(wider, before));

    Mlp<Dense<Tanh, float>, Dense<Identity, float>> tanh_net({784, 128, 10}, 3);
    CHECK(message_of<descent::architecture_mismatch_error>([&] { descent::load(tanh_net, file); }) ==
          file.string() + ": file has " + saved +
              ", this network is 784-128:tanh-10 (softmax_cross_entropy, float)");
    DeepNet<float> deeper({784, 128, 64, 10}, 4);
    CHECK(message_of<descent::architecture_mismatch_error>([&] { descent::load(deeper, file); }) ==
          file.string() + ": file has " + saved +
              ", this network is 784-128:tanh-64:relu-10 (softmax_cross_entropy, float)");
    CHECK(message_of<descent::architecture_mismatch_error>([&] { descent::load<DeepNet<float>>(file); }) ==
          file.string() + ": file has " + saved + ", of 2 layers, this network type has 3");
    // A network type of the file's depth is shown with the file's sizes.
    CHECK(message_of<descent::architecture_mismatch_error>([&] {
              descent::load<Mlp<Dense<Tanh, float>, Dense<Identity, float>>>(file);
          }) == file.string() + ": file has " + saved +
                    ", this network type is 784-128:tanh-10 (softmax_cross_entropy, float)");
    Mlp<Dense<Identity, float>> softmax_regression({784, 10}, 5);
    CHECK_THAT(
        message_of<descent::architecture_mismatch_error>([&] { descent::load(softmax_regression, file); }),
        Contains("this network is 784-10 (softmax_cross_entropy, float)"));
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
    // Consistent checksums, inconsistent content: what a writer bug would produce. The payload:
    // scalar at 17, head at 18 (4 + 21), layer count at 43, layer 1 at 47 (kind, activation,
    // sizes, dropout: 41 bytes), layer 2 at 88 (45 bytes), metadata count at 133, parameter
    // count at 137, θ at 145.
    check_corrupt(resealed(bytes, [](std::string& b) { b[12] = 'X'; }), "the byte order is neither");
    check_corrupt(resealed(bytes, [](std::string& b) { b[17] = 'h'; }), "unknown scalar type code");
    check_corrupt(resealed(bytes, [](std::string& b) { b.resize(b.size() - 12); }),
                  "the file announces 39 parameters and holds 300 bytes of them");
    check_corrupt(resealed(bytes, [](std::string& b) { b.resize(120); }),
                  "it ends inside the layer manifest");
    check_corrupt(resealed(bytes, [](std::string& b) { b.resize(60); }), "2 layers do not fit in the file");
    check_corrupt(resealed(bytes, [](std::string& b) { b[13] = b[14] = b[15] = b[16] = 0; }),
                  "format version 0 does not exist");
    check_corrupt(resealed(bytes, [](std::string& b) { b[109] = 5; }),
                  "layer 2 takes 5 inputs but layer 1 gives 4");
    check_corrupt(resealed(bytes, [](std::string& b) { b[51] = 'D'; }),
                  "layer 1's kind \"Dense\" or activation \"relu\" is not a name");
    check_corrupt(resealed(bytes, [](std::string& b) { b[22] = ' '; }),
                  "the head \" oftmax_cross_entropy\" is not a name");
    // Claims that no file of this size can hold: refused before anything is allocated for them
    // (tests/test_fuzz_regressions.cpp counts the bytes).
    check_corrupt(resealed(bytes,
                           [](std::string& b) {
                               const std::uint32_t million = 1000000;
                               std::memcpy(b.data() + 43, &million, 4);
                           }),
                  "1000000 layers do not fit in the file");
    check_corrupt(resealed(bytes,
                           [](std::string& b) {
                               const std::uint64_t huge = std::uint64_t{1} << 40;
                               std::memcpy(b.data() + 137, &huge, 8);
                           }),
                  "the file announces 1099511627776 parameters and holds 312 bytes of them");
    check_corrupt(resealed(bytes,
                           [](std::string& b) {
                               const std::uint32_t entries = 1 << 30;
                               std::memcpy(b.data() + 133, &entries, 4);
                           }),
                  "its metadata claims 1073741824 entries, more than the 320 bytes left hold");
    // A sound file whose θ is one value short of what its architecture needs.
    const std::string short_theta = resealed(bytes, [](std::string& b) {
        const std::uint64_t count = 38;
        std::memcpy(b.data() + 137, &count, 8);
        b.erase(145, 8);
    });
    check_corrupt(short_theta, "it holds 38 parameters where its architecture has 39");
    const auto short_file = dir.write("short", short_theta);
    CHECK_THAT(
        message_of<descent::corrupt_model_file_error>([&] { descent::load<ReluNet<double>>(short_file); }),
        Contains("it holds 38 parameters where its architecture has 39"));
}

TEST_CASE("metadata keys must be distinct and in order", "[model_file]") {
    TempDir dir;
    ReluNet<float> net({3, 2, 2}, 1);
    descent::save(net, dir / "m", {{"a", "1"}, {"b", "2"}});
    std::string bytes = contents(dir / "m");
    const auto key = bytes.find(std::string("\1\0\0\0a", 5));
    REQUIRE(key != std::string::npos);
    const auto file = dir.write(
        "swapped", resealed(bytes, [](std::string& b) { b[b.find(std::string("\1\0\0\0a", 5)) + 4] = 'c'; }));
    CHECK_THAT(message_of<descent::corrupt_model_file_error>([&] { descent::load(net, file); }),
               Contains("metadata key \"b\" is not after \"c\""));
    CHECK(descent::load_model(dir / "m").metadata == descent::ModelMetadata{{"a", "1"}, {"b", "2"}});
}

TEST_CASE("a file of a newer format version is a model_version_error", "[model_file]") {
    TempDir dir;
    ReluNet<float> net({4, 3, 2}, 1);
    descent::save(net, dir / "m");
    const auto newer = dir.write("newer", resealed(contents(dir / "m"), [](std::string& b) {
                                     const std::uint32_t three = 3;
                                     std::memcpy(b.data() + 13, &three, 4);
                                 }));
    const auto before = net;
    CHECK(message_of<descent::model_version_error>([&] { descent::load(net, newer); }) ==
          newer.string() +
              ": model file format version 3 is newer than this descent reads (up to version 2); "
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

namespace {

// tests/data/, committed beside this file (tests/data/README.md says how its files were made).
std::filesystem::path data_file(const std::string& name) {
    const auto file = std::filesystem::path(__FILE__).parent_path() / "data" / name;
    REQUIRE(std::filesystem::exists(file));
    return file;
}

// The θ the version-1 files hold: θ_i = ((37 i) mod 101 − 50) / 32, exact in float and double.
template <class T>
Eigen::Matrix<T, Eigen::Dynamic, 1> v1_theta(Eigen::Index n) {
    Eigen::Matrix<T, Eigen::Dynamic, 1> theta(n);
    for (Eigen::Index i = 0; i < n; ++i) theta(i) = std::ldexp(static_cast<T>((37 * i) % 101 - 50), -5);
    return theta;
}

template <class V>
bool same_bits(const V& a, const V& b) {
    return a.size() == b.size() &&
           (a.size() == 0 ||
            std::memcmp(a.data(), b.data(), sizeof(a[0]) * static_cast<std::size_t>(a.size())) == 0);
}

}  // namespace

TEST_CASE("model files of format version 1 still load, θ bit for bit", "[model_file]") {
    for (const char* name : {"v1-3-4-2-relu-float-little.model", "v1-3-4-2-relu-float-big.model"}) {
        CAPTURE(name);
        const auto file = data_file(name);
        const auto net = descent::load<ReluNet<float>>(file);
        CHECK(net.sizes() == std::vector<Eigen::Index>{3, 4, 2});
        CHECK(same_bits(Eigen::VectorXf(net.parameters()), v1_theta<float>(26)));
        ReluNet<float> into({3, 4, 2}, 9);
        descent::load(into, file);
        CHECK(same_parameters(into, net));
        // Version 1 had no head: it means the softmax-cross-entropy the library then had.
        const Architecture a = descent::read_architecture(file);
        CHECK(a == net.architecture());
        CHECK(a.head == "softmax_cross_entropy");
        const auto model = descent::load_model(file);
        CHECK(model.architecture == a);
        CHECK(same_bits(model.parameters, Eigen::VectorXd(v1_theta<float>(26).cast<double>())));
        CHECK(model.metadata.empty());
    }
    const auto deep = descent::load<DeepNet<double>>(data_file("v1-2-3-4-2-tanh-relu-double-little.model"));
    CHECK(deep.sizes() == std::vector<Eigen::Index>{2, 3, 4, 2});
    CHECK(same_bits(Eigen::VectorXd(deep.parameters()), v1_theta<double>(3 * 3 + 4 * 4 + 2 * 5)));
    // Saved again, it is a file of version 2 with the same content.
    TempDir dir;
    descent::save(deep, dir / "v2");
    CHECK(contents(dir / "v2")[13] == 2);
    CHECK(descent::load_model(dir / "v2") ==
          descent::load_model(data_file("v1-2-3-4-2-tanh-relu-double-little.model")));
}

TEMPLATE_TEST_CASE("read_architecture and load_model give the file's content as plain data", "[model_file]",
                   float, double) {
    TempDir dir;
    DeepNet<TestType> net({6, 5, 4, 3}, 2);
    const descent::ModelMetadata metadata{{"input_mean", std::string("\0\1\2", 3)}, {"trained_by", "test"}};
    descent::save(net, dir / "m", metadata);
    const Architecture a = descent::read_architecture(dir / "m");
    CHECK(a == net.architecture());
    CHECK(descent::describe(a) == std::string("6-5:tanh-4:relu-3 (softmax_cross_entropy, ") +
                                      (sizeof(TestType) == 4 ? "float" : "double") + ")");
    const descent::ModelData model = descent::load_model(dir / "m");
    CHECK(model.architecture == a);
    CHECK(model.metadata == metadata);
    CHECK(same_bits(model.parameters, Eigen::VectorXd(net.parameters().template cast<double>())));

    // And back: save_model writes what save wrote.
    descent::save_model(model, dir / "again");
    CHECK(contents(dir / "again") == contents(dir / "m"));
}

TEST_CASE("a layer kind that the network does not have is an architecture_mismatch_error", "[model_file]") {
    TempDir dir;
    descent::ModelData model{
        descent::Architecture{
            {{"dense", "relu", 3, 4}, {"conv", "identity", 4, 2}}, "softmax_cross_entropy", "float"},
        Eigen::VectorXd::Zero(26),
        {}};
    descent::save_model(model, dir / "conv");
    ReluNet<float> net({3, 4, 2}, 1);
    const auto before = net;
    CHECK_THAT(message_of<descent::architecture_mismatch_error>([&] { descent::load(net, dir / "conv"); }),
               Contains("file has 3-4:relu-2:conv (softmax_cross_entropy, float), this network is "
                        "3-4:relu-2 (softmax_cross_entropy, float)"));
    CHECK(same_parameters(net, before));
    CHECK_THROWS_AS(descent::load<ReluNet<float>>(dir / "conv"), descent::architecture_mismatch_error);
    // Plain data keeps the kind as the file names it: a network built from it decides.
    CHECK(descent::read_architecture(dir / "conv").layers[1].kind == "conv");
}

TEST_CASE("save_model refuses an architecture that no file can hold", "[model_file]") {
    TempDir dir;
    auto refused = [&](descent::Architecture a, const std::string& expected) {
        CHECK_THAT(message_of<descent::argument_error>([&] {
                       descent::save_model({std::move(a), Eigen::VectorXd::Zero(4), {}}, dir / "m");
                   }),
                   Contains(expected));
        CHECK(!std::filesystem::exists(dir / "m"));
    };
    refused({{}, "softmax_cross_entropy", "float"}, "save_model: cannot save this architecture: no layers");
    refused({{{"dense", "relu", 3, 4}, {"dense", "identity", 5, 2}}, "softmax_cross_entropy", "float"},
            "layer 2 takes 5 inputs but layer 1 gives 4");
    refused({{{"Dense layer", "relu", 3, 4}}, "softmax_cross_entropy", "float"},
            "layer 1's kind \"Dense layer\" or activation \"relu\" is not a name");
    refused({{{"dense", "relu", 3, 0}}, "softmax_cross_entropy", "float"}, "layer 1 has sizes 3 -> 0");
    refused({{{"dense", "identity", 3, 1}}, "softmax_cross_entropy", "half"},
            "the scalar type \"half\" is neither float nor double");
}
