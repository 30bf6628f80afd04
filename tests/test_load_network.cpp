// load_network: any saved model back as a working Network<Scalar>, θ and dropout rates as saved,
// without its type at compile time; hostile files (an unknown layer kind, θ of the wrong size, a
// depth of a million, 2^40 parameters) refused with typed errors before anything large is
// allocated, and nothing changed by a throw. Also load_onnx_network (io/onnx_import.hpp).
#include <descent/io/load_network.hpp>
#include <descent/io/model_file.hpp>
#include <descent/io/onnx_export.hpp>
#include <descent/io/onnx_import.hpp>
#include <descent/mlp.hpp>
#include <descent/network.hpp>
#include <filesystem>
#include <string>

#include "file_support.hpp"
#include "support.hpp"
#include "training_support.hpp"

using Catch::Matchers::Contains;
using descent::Architecture;
using descent::Network;
using descent::test::contents;
using descent::test::message_of;
using descent::test::same_bits;
using descent::test::TempDir;

namespace {

// A model file of architecture `a` holding θ = 0.5, ..., `count` of them, whatever a's size says.
std::string model_bytes(const Architecture& a, std::size_t count,
                        const descent::ModelMetadata& metadata = {}) {
    const Eigen::VectorXf theta = Eigen::VectorXf::Constant(static_cast<Eigen::Index>(count), 0.5f);
    return descent::detail::encode_model(a, metadata, theta.data(), count);
}

Eigen::MatrixXf batch(Eigen::Index rows, Eigen::Index cols) {
    Eigen::MatrixXf x(rows, cols);
    for (Eigen::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>((i * 37) % 11) / 7.0f - 0.6f;
    return x;
}

}  // namespace

TEMPLATE_TEST_CASE("load_network gives back the saved network: architecture, dropout, θ, metadata",
                   "[load_network]", float, double) {
    TempDir dir;
    Network<TestType> net("6-5:tanh:dropout=0.25-4:relu-3", 7);
    descent::save(net, dir / "m", {{"input", "raw"}});
    descent::ModelMetadata metadata;
    Network<TestType> loaded = descent::load_network<TestType>(dir / "m", metadata);
    CHECK(loaded.architecture() == net.architecture());
    CHECK(loaded.dropout(1) == 0.25);
    CHECK(loaded.dropout(2) == 0.0);
    CHECK(same_bits(loaded.parameters(), net.parameters()));
    CHECK(metadata == descent::ModelMetadata{{"input", "raw"}});
    const Eigen::Matrix<TestType, Eigen::Dynamic, Eigen::Dynamic> x = batch(6, 9).cast<TestType>();
    CHECK(loaded.predict(x) == net.predict(x));
    // and it trains: compute_gradient on the loaded network works as on the original
    const std::vector<int> y{0, 1, 2, 0, 1, 2, 0, 1, 2};
    CHECK(loaded.loss(x, y) == net.loss(x, y));
}

TEST_CASE("load_network reads an Mlp's file, every head, and files of format version 1", "[load_network]") {
    TempDir dir;
    descent::Mlp<descent::Dense<descent::Relu>, descent::Dense<descent::Identity>> mlp({4, 3, 2}, 5);
    descent::save(mlp, dir / "mlp");
    auto net = descent::load_network(dir / "mlp");
    CHECK(net.spec() == "4-3:relu-2");
    CHECK(same_bits(net.parameters(), mlp.parameters()));
    const Eigen::MatrixXf x = batch(4, 5);
    CHECK(net.predict_proba(x).isApprox(mlp.predict_proba(x), 0.0f));

    Network<float> regression(3, {{4, "sigmoid"}}, 2, "squared_error", 1);
    descent::save(regression, dir / "r");
    CHECK(descent::load_network(dir / "r").head_name() == std::string("squared_error"));

    const auto data = std::filesystem::path(__FILE__).parent_path() / "data";
    const auto v1 = descent::load_network<double>(data / "v1-2-3-4-2-tanh-relu-double-little.model");
    CHECK(v1.spec() == "2-3:tanh-4:relu-2");
    CHECK(v1.parameters().size() == 3 * 3 + 4 * 4 + 2 * 5);
}

TEST_CASE("load_network of the other scalar type names the load_network to call", "[load_network]") {
    TempDir dir;
    descent::save(Network<double>("3-2", 1), dir / "d");
    CHECK(message_of<descent::scalar_type_mismatch_error>([&] { (void)descent::load_network(dir / "d"); }) ==
          (dir / "d").string() +
              ": the file holds double parameters, load_network<float> builds a float network (call "
              "load_network<double>)");
    descent::save(Network<float>("3-2", 1), dir / "f");
    CHECK_THROWS_MATCHES(descent::load_network<double>(dir / "f"), descent::scalar_type_mismatch_error,
                         Catch::Matchers::Message((dir / "f").string() +
                                                  ": the file holds float parameters, load_network<double> "
                                                  "builds a double network (call load_network<float>)"));
}

TEST_CASE("load_network refuses hostile files with typed errors before allocating", "[load_network]") {
    TempDir dir;
    const auto dense = [](Eigen::Index in, Eigen::Index out, const char* g = "identity") {
        return descent::LayerSpec{"dense", g, in, out, 0.0};
    };
    SECTION("an unknown layer kind") {
        const Architecture a{
            {dense(3, 4, "relu"), {"conv", "identity", 4, 2, 0.0}}, "softmax_cross_entropy", "float"};
        const auto file = dir.write("conv", model_bytes(a, 26));
        CHECK(message_of<descent::architecture_mismatch_error>([&] { (void)descent::load_network(file); }) ==
              file.string() + ": layer 2 of 2 is of kind \"conv\", which Network does not know (dense)");
    }
    SECTION("an unknown activation, or one on the output layer") {
        const Architecture a{{dense(3, 4, "swish"), dense(4, 2)}, "softmax_cross_entropy", "float"};
        const auto file = dir.write("swish", model_bytes(a, 26));
        CHECK_THAT(
            message_of<descent::architecture_mismatch_error>([&] { (void)descent::load_network(file); }),
            Contains("is no Network: Network: layer 1 of 2 has activation \"swish\""));
        const Architecture b{{dense(3, 2, "relu")}, "softmax_cross_entropy", "float"};
        CHECK_THROWS_AS(descent::load_network(dir.write("relu-out", model_bytes(b, 8))),
                        descent::architecture_mismatch_error);
    }
    SECTION("an unknown head") {
        const Architecture a{{dense(3, 2)}, "hinge", "float"};
        CHECK_THROWS_AS(descent::load_network(dir.write("hinge", model_bytes(a, 8))),
                        descent::architecture_mismatch_error);
    }
    SECTION("θ of another size than the layers'") {
        const Architecture a{{dense(3, 4, "relu"), dense(4, 2)}, "softmax_cross_entropy", "float"};
        const auto file = dir.write("short", model_bytes(a, 25));
        CHECK(message_of<descent::corrupt_model_file_error>([&] { (void)descent::load_network(file); }) ==
              file.string() +
                  ": corrupt model file: it holds 25 parameters where 3-4:relu-2 (softmax_cross_entropy, "
                  "float) has 26");
    }
    SECTION("2^40 parameters, and sizes whose product passes 2^64") {
        const Architecture a{{dense(1 << 20, 1 << 20)}, "softmax_cross_entropy", "float"};
        const auto file = dir.write("huge", model_bytes(a, 4));
        CHECK_THAT(message_of<descent::corrupt_model_file_error>([&] { (void)descent::load_network(file); }),
                   Contains("it holds 4 parameters where 1048576-1048576 (softmax_cross_entropy, float) has "
                            "1099512676352"));
        const Eigen::Index big = 0xFFFFFFFF;
        const Architecture b{{dense(big, big, "relu"), dense(big, big, "relu"), dense(big, big)},
                             "softmax_cross_entropy",
                             "float"};
        const auto wrap = dir.write("wrap", model_bytes(b, 4));
        CHECK_THAT(message_of<descent::corrupt_model_file_error>([&] { (void)descent::load_network(wrap); }),
                   Contains("has 2^64 or more"));
    }
    SECTION("a depth of a million") {
        const std::string bytes = descent::detail::encode_frame<descent::detail::ModelFileFormat>(
            std::endian::native, [](descent::detail::ByteWriter& out) {
                out.put('f');
                out.put_string("softmax_cross_entropy");
                out.put(std::uint32_t{1000000});
                for (int k = 0; k < 10; ++k) out.put(std::uint64_t{0});
            });
        const auto file = dir.write("deep", bytes);
        CHECK_THAT(message_of<descent::corrupt_model_file_error>([&] { (void)descent::load_network(file); }),
                   Contains("1000000 layers do not fit in the file"));
    }
    SECTION("a dropout rate outside [0, 1), or on the output layer") {
        Architecture a{{{"dense", "relu", 3, 4, 0.5}, dense(4, 2)}, "softmax_cross_entropy", "float"};
        std::string bytes = model_bytes(a, 26);
        // the rate 0.5 is the only binary64 0.5 in the file: make it 1.5, and reseal
        const double half = 0.5, bad = 1.5;
        const auto at = bytes.find(std::string(reinterpret_cast<const char*>(&half), 8));
        REQUIRE(at != std::string::npos);
        bytes.replace(at, 8, std::string(reinterpret_cast<const char*>(&bad), 8));
        bytes.resize(bytes.size() - 4);
        const std::uint32_t crc = descent::detail::crc32(0, bytes.data(), bytes.size());
        bytes.append(reinterpret_cast<const char*>(&crc), 4);
        const auto file = dir.write("rate", bytes);
        CHECK_THAT(message_of<descent::corrupt_model_file_error>([&] { (void)descent::load_network(file); }),
                   Contains("layer 1 has dropout 1.5, expected [0, 1)"));
        a.layers[1].dropout = 0.5;
        CHECK_THROWS_AS(descent::detail::encode_model<float>(a, {}, nullptr, 0), descent::argument_error);
    }
    SECTION("a missing file, not a model file") {
        CHECK_THROWS_AS(descent::load_network(dir / "none"), descent::io_error);
        CHECK_THROWS_AS(descent::load_network(dir.write("text", "hello, world")),
                        descent::not_a_model_file_error);
    }
}

TEST_CASE("load_network and load_onnx_network leave everything unchanged on a throw", "[load_network]") {
    TempDir dir;
    Network<float> net("3-4:relu-2", 3);
    descent::save(net, dir / "good", {{"k", "v"}});
    const std::string before = contents(dir / "good");
    descent::ModelMetadata metadata{{"mine", "kept"}};
    Network<float> target("3-4:relu-2", 9);
    const Eigen::VectorXf theta = target.parameters();
    const auto bad = dir.write("bad", before.substr(0, before.size() - 3));
    CHECK_THROWS_AS(target = descent::load_network(bad, metadata), descent::corrupt_model_file_error);
    CHECK_THROWS_AS(target = descent::load_network<double>(dir / "good").template cast<float>(),
                    descent::scalar_type_mismatch_error);
    CHECK(metadata == descent::ModelMetadata{{"mine", "kept"}});
    CHECK(same_bits(target.parameters(), theta));
    CHECK(contents(dir / "good") == before);
    CHECK_THROWS_AS(target = descent::load_onnx_network(dir / "good"), descent::onnx_error);
    CHECK(same_bits(target.parameters(), theta));
}

TEMPLATE_TEST_CASE("load_onnx_network builds the exported network", "[load_network]", float, double) {
    TempDir dir;
    Network<TestType> net("5-4:tanh-3:sigmoid-2", 4);
    descent::export_onnx(net, dir / "m.onnx");
    auto loaded = descent::load_onnx_network<TestType>(dir / "m.onnx");
    CHECK(loaded.architecture() == net.architecture());
    CHECK(same_bits(loaded.parameters(), net.parameters()));
    using Other = std::conditional_t<std::is_same_v<TestType, float>, double, float>;
    CHECK_THAT(message_of<descent::onnx_scalar_type_mismatch_error>(
                   [&] { (void)descent::load_onnx_network<Other>(dir / "m.onnx"); }),
               Contains(std::string("(call load_onnx_network<") +
                        (sizeof(TestType) == 4 ? "float" : "double") + ">)"));
}
