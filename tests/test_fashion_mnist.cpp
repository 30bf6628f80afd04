// Fashion-MNIST: the real files load with their documented sizes and values;
// the loader finds plain as well as .gz files and checks the image size.
#include <descent/data/fashion_mnist.hpp>

#include <algorithm>
#include <string>

#include "file_support.hpp"
#include "support.hpp"

using Catch::Matchers::Contains;
using descent::test::message_of;
using descent::test::TempDir;

namespace {

std::string idx(std::uint32_t magic, std::initializer_list<std::uint32_t> sizes, std::size_t payload,
                char fill) {
    std::string out;
    auto put = [&](std::uint32_t v) {
        for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
    };
    put(magic);
    for (auto s : sizes) put(s);
    return out + std::string(payload, fill);
}

}  // namespace

TEMPLATE_TEST_CASE("the real Fashion-MNIST loads: 60000 + 10000 images of 784 pixels in [0, 1]",
                   "[fashion-mnist]", float, double) {
    descent::test::require_fashion_mnist();
    const auto [train, test] = descent::load_fashion_mnist<TestType>(descent::test::fashion_mnist_dir());
    CHECK(train.features() == 784);
    CHECK(train.size() == 60000);
    CHECK(test.features() == 784);
    CHECK(test.size() == 10000);
    REQUIRE(train.y.size() == 60000);
    REQUIRE(test.y.size() == 10000);
    CHECK(std::ranges::all_of(train.y, [](int y) { return 0 <= y && y < 10; }));
    CHECK(std::ranges::all_of(test.y, [](int y) { return 0 <= y && y < 10; }));
    // Values read independently from the files (Python's gzip module).
    CHECK(train.y[0] == 9);  // an ankle boot
    CHECK(std::string(descent::fashion_mnist_classes[9]) == "Ankle boot");
    CHECK(test.y[0] == 9);
    CHECK(train.y[3] == 3);
    CHECK(train.x(14 * 28 + 14, 0) == TestType(217) / TestType(255));
    CHECK_THAT(double(train.x.col(0).sum()), Catch::Matchers::WithinRel(76247 / 255.0, 1e-5));
    CHECK_THAT(double(test.x.col(0).sum()), Catch::Matchers::WithinRel(33456 / 255.0, 1e-5));
    CHECK(train.x.minCoeff() == TestType(0));
    CHECK(train.x.maxCoeff() == TestType(1));
}

TEST_CASE("load_fashion_mnist reads unpacked files and checks what it reads", "[fashion-mnist]") {
    TempDir dir;
    SECTION("plain files of 28x28 images") {
        dir.write("train-images-idx3-ubyte", idx(0x803, {2, 28, 28}, 2 * 784, '\x33'));
        dir.write("train-labels-idx1-ubyte", idx(0x801, {2}, 2, '\x07'));
        dir.write("t10k-images-idx3-ubyte", idx(0x803, {1, 28, 28}, 784, '\xFF'));
        dir.write("t10k-labels-idx1-ubyte", idx(0x801, {1}, 1, '\x00'));
        const auto data = descent::load_fashion_mnist<float>(dir.path());
        CHECK(data.train.size() == 2);
        CHECK(data.train.y == std::vector<int>{7, 7});
        CHECK(data.train.x(783, 1) == 51.0f / 255.0f);
        CHECK(data.test.y == std::vector<int>{0});
        CHECK(data.test.x(0, 0) == 1.0f);
    }
    SECTION("images of another size") {
        dir.write("train-images-idx3-ubyte", idx(0x803, {1, 8, 8}, 64, '\x01'));
        dir.write("train-labels-idx1-ubyte", idx(0x801, {1}, 1, '\x01'));
        CHECK(message_of<descent::data_error>([&] { descent::load_fashion_mnist<float>(dir.path()); }) ==
              (dir / "train-images-idx3-ubyte").string() +
                  ": images of 64 pixels, expected 28x28 = 784 for Fashion-MNIST");
    }
    SECTION("a label of 10") {
        dir.write("train-images-idx3-ubyte", idx(0x803, {1, 28, 28}, 784, '\x01'));
        dir.write("train-labels-idx1-ubyte", idx(0x801, {1}, 1, '\x0A'));
        CHECK_THAT(message_of<descent::data_error>([&] { descent::load_fashion_mnist<float>(dir.path()); }),
                   Contains("label 10 of sample 0 is outside [0, 10)"));
    }
    SECTION("no files") {
        CHECK(message_of<descent::io_error>([&] { descent::load_fashion_mnist<float>(dir.path()); }) ==
              "cannot open " + (dir / "train-labels-idx1-ubyte.gz").string() + ": No such file or directory");
    }
}
