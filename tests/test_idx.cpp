// IDX reader: good files (.gz and plain) read back exactly; every kind of broken
// file is an error that names the file and what is wrong with it.
#include <descent/data/idx.hpp>

#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <numeric>
#include <string>
#include <vector>

#include "file_support.hpp"
#include "support.hpp"

using Catch::Matchers::Contains;
using descent::test::idx_header;
using descent::test::message_of;
using descent::test::TempDir;
using descent::test::write_gz;

namespace {

// An IDX file: magic, big-endian sizes, payload.
std::string idx(std::uint32_t magic, std::initializer_list<std::uint32_t> sizes, const std::string& payload) {
    return idx_header(magic, sizes) + payload;
}

std::string bytes_from(std::initializer_list<int> values) {
    std::string out;
    for (int v : values) out.push_back(static_cast<char>(v));
    return out;
}

// 3 images of 2x3 pixels: image t holds 10t, 10t+1, ..., 10t+5, and one 255.
const std::string pixels = bytes_from({0, 1, 2, 3, 4, 255, 10, 11, 12, 13, 14, 15, 20, 21, 22, 23, 24, 25});
const std::string images_file = idx(0x803, {3, 2, 3}, pixels);
const std::string labels_file = idx(0x801, {3}, bytes_from({9, 0, 3}));

}  // namespace

TEST_CASE("IDX images and labels read back from .gz and plain files", "[idx]") {
    TempDir dir;
    for (const bool packed : {true, false}) {
        const auto images_path = packed ? write_gz(dir, "i.gz", images_file) : dir.write("i", images_file);
        const auto labels_path = packed ? write_gz(dir, "l.gz", labels_file) : dir.write("l", labels_file);
        const auto images = descent::read_idx_images(images_path);
        CHECK(images.count == 3);
        CHECK(images.rows == 2);
        CHECK(images.cols == 3);
        CHECK(std::string(images.pixels.begin(), images.pixels.end()) == pixels);
        CHECK(descent::read_idx_labels(labels_path) == std::vector<int>{9, 0, 3});
        CHECK(descent::read_idx_labels(labels_path, 10) == std::vector<int>{9, 0, 3});
    }
}

TEMPLATE_TEST_CASE("load_idx scales pixels to [0, 1], one image per column", "[idx]", float, double) {
    TempDir dir;
    const auto data =
        descent::load_idx<TestType>(write_gz(dir, "i.gz", images_file), write_gz(dir, "l.gz", labels_file));
    REQUIRE(data.features() == 6);
    REQUIRE(data.size() == 3);
    CHECK(data.y == std::vector<int>{9, 0, 3});
    // pixel (r, c) of image t is x(r * cols + c, t)
    CHECK(data.x(0, 0) == TestType(0));
    CHECK(data.x(5, 0) == TestType(1));  // 255 / 255, exactly
    CHECK(data.x(4, 0) == TestType(4) / TestType(255));
    CHECK(data.x(1, 2) == TestType(21) / TestType(255));
    CHECK(data.x(3, 1) == TestType(13) / TestType(255));
}

TEST_CASE("IDX files of the wrong kind are rejected by their magic number", "[idx]") {
    TempDir dir;
    const auto images = write_gz(dir, "train-images-idx3-ubyte.gz", images_file);
    const auto labels = write_gz(dir, "train-labels-idx1-ubyte.gz", labels_file);
    CHECK(message_of<descent::data_error>([&] { descent::read_idx_labels(images); }) ==
          images.string() +
              ": wrong magic number 0x00000803, expected 0x00000801 (IDX labels): 3 dimensions, expected 1");
    CHECK(message_of<descent::data_error>([&] { descent::read_idx_images(labels); }) ==
          labels.string() +
              ": wrong magic number 0x00000801, expected 0x00000803 (IDX images): 1 dimensions, expected 3");

    const auto floats = dir.write("floats", idx(0x0D03, {1, 1, 1}, "abcd"));
    CHECK(message_of<descent::data_error>([&] { descent::read_idx_images(floats); }) ==
          floats.string() +
              ": wrong magic number 0x00000D03, expected 0x00000803 (IDX images): element type 0x0D is "
              "not 0x08 (unsigned byte)");
    const auto text = dir.write("text.csv", "label,pixel1\n3,0\n");
    CHECK_THAT(message_of<descent::data_error>([&] { descent::read_idx_labels(text); }),
               Contains("text.csv: wrong magic number 0x6C616265") && Contains("not an IDX file"));
}

TEST_CASE("empty and truncated IDX files are errors, never short reads", "[idx]") {
    TempDir dir;
    const auto empty = dir.write("empty", "");
    CHECK(message_of<descent::data_error>([&] { descent::read_idx_labels(empty); }) ==
          empty.string() + ": empty file, expected IDX labels");
    const auto empty_gz = write_gz(dir, "empty.gz", "");
    CHECK_THAT(message_of<descent::data_error>([&] { descent::read_idx_images(empty_gz); }),
               Contains("empty file"));

    const auto short_magic = dir.write("short_magic", std::string("\0\0\x08", 3));
    CHECK_THAT(message_of<descent::data_error>([&] { descent::read_idx_images(short_magic); }),
               Contains("truncated: 3 bytes"));
    const auto short_header = dir.write("short_header", images_file.substr(0, 10));
    CHECK_THAT(message_of<descent::data_error>([&] { descent::read_idx_images(short_header); }),
               Contains("short_header: truncated in the header: IDX images need 3 sizes"));

    // one pixel missing, in a plain file and in a complete gzip stream
    const std::string cut = images_file.substr(0, images_file.size() - 1);
    for (const auto& file : {dir.write("cut", cut), write_gz(dir, "cut.gz", cut)})
        CHECK(message_of<descent::data_error>([&] { descent::read_idx_images(file); }) ==
              file.string() +
                  ": truncated: the header announces 3 images of 2x3 (18 bytes) but the file holds only 17");
    const auto cut_labels = dir.write("cut_labels", labels_file.substr(0, labels_file.size() - 2));
    CHECK_THAT(message_of<descent::data_error>([&] { descent::read_idx_labels(cut_labels); }),
               Contains("the header announces 3 labels (3 bytes) but the file holds only 1"));
}

TEST_CASE("a gzip stream cut short or damaged is an error", "[idx]") {
    TempDir dir;
    // Enough varied pixels that the compressed stream is long.
    std::string many(4096 * 7, '\0');
    for (std::size_t i = 0; i < many.size(); ++i) many[i] = static_cast<char>((i * 7919) % 251);
    const std::string full = idx(0x803, {7, 64, 64}, many);
    const std::string packed = descent::test::contents(write_gz(dir, "full.gz", full));
    REQUIRE(descent::read_idx_images(dir / "full.gz").pixels.size() == many.size());

    const auto half = dir.write("half.gz", packed.substr(0, packed.size() / 2));
    CHECK_THAT(message_of<descent::data_error>([&] { descent::read_idx_images(half); }),
               Contains("half.gz: truncated"));
    // All pixels there, only the gzip trailer (CRC and length) missing.
    const auto no_trailer = dir.write("no_trailer.gz", packed.substr(0, packed.size() - 8));
    CHECK_THAT(message_of<descent::data_error>([&] { descent::read_idx_images(no_trailer); }),
               Contains("no_trailer.gz: truncated gzip data"));
    std::string damaged = packed;
    for (std::size_t i = packed.size() / 3; i < packed.size() / 3 + 16; ++i)
        damaged[i] = static_cast<char>(~damaged[i]);
    const auto bad = dir.write("damaged.gz", damaged);
    CHECK_THROWS_AS(descent::read_idx_images(bad), descent::data_error);
}

TEST_CASE("trailing data after the announced payload is an error", "[idx]") {
    TempDir dir;
    for (const auto& file :
         {dir.write("long", labels_file + "xyz"), write_gz(dir, "long.gz", labels_file + "xyz")})
        CHECK(message_of<descent::data_error>([&] { descent::read_idx_labels(file); }) ==
              file.string() + ": 3 bytes of trailing data after the 3 labels the header announces");
}

TEST_CASE("IDX sizes of zero or beyond memory are rejected without allocating them", "[idx]") {
    TempDir dir;
    const auto no_images = dir.write("zero", idx(0x803, {0, 28, 28}, ""));
    CHECK(message_of<descent::data_error>([&] { descent::read_idx_images(no_images); }) ==
          no_images.string() + ": the header announces 0 images of 28x28");
    const auto no_width = dir.write("zero_width", idx(0x803, {5, 28, 0}, ""));
    CHECK_THAT(message_of<descent::data_error>([&] { descent::read_idx_images(no_width); }),
               Contains("announces 5 images of 28x0"));
    const auto no_labels = dir.write("zero_labels", idx(0x801, {0}, ""));
    CHECK_THAT(message_of<descent::data_error>([&] { descent::read_idx_labels(no_labels); }),
               Contains("announces 0 labels"));

    const auto overflow = dir.write("overflow", idx(0x803, {0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF}, "x"));
    CHECK_THAT(message_of<descent::data_error>([&] { descent::read_idx_images(overflow); }),
               Contains("4294967295 images of 4294967295x4294967295, more bytes than memory can address"));
    // 3.3 TB claimed, 3 bytes present: found out after reading 3 bytes, not by allocating 3.3 TB.
    const auto huge = dir.write("huge", idx(0x803, {0xFFFFFFFF, 28, 28}, "abc"));
    CHECK_THAT(message_of<descent::data_error>([&] { descent::read_idx_images(huge); }),
               Contains("(3367254359280 bytes) but the file holds only 3"));
}

TEST_CASE("labels are checked against the number of classes and the images", "[idx]") {
    TempDir dir;
    const auto labels = dir.write("labels", idx(0x801, {3}, bytes_from({9, 0, 10})));
    CHECK(descent::read_idx_labels(labels) == std::vector<int>{9, 0, 10});
    CHECK(message_of<descent::data_error>([&] { descent::read_idx_labels(labels, 10); }) ==
          labels.string() + ": label 10 of sample 2 is outside [0, 10)");

    const auto images = dir.write("images", images_file);
    const auto two = dir.write("two_labels", idx(0x801, {2}, bytes_from({1, 2})));
    CHECK(message_of<descent::data_error>([&] { descent::load_idx<float>(images, two); }) ==
          images.string() + " has 3 images but " + two.string() + " has 2 labels");
}

TEST_CASE("a missing or unreadable IDX file is an io_error naming it and the reason", "[idx]") {
    TempDir dir;
    const auto missing = dir / "missing.gz";
    CHECK(message_of<descent::io_error>([&] { descent::read_idx_images(missing); }) ==
          "cannot open " + missing.string() + ": No such file or directory");
    CHECK(message_of<descent::io_error>([&] { descent::read_idx_labels(dir.path()); }) ==
          "cannot read " + dir.path().string() + ": Is a directory");
}

TEST_CASE("the real Fashion-MNIST IDX files read with their documented sizes", "[idx][fashion-mnist]") {
    descent::test::require_fashion_mnist();
    const auto real_dir = descent::test::fashion_mnist_dir();
    const auto images = descent::read_idx_images(real_dir / "train-images-idx3-ubyte.gz");
    CHECK(images.count == 60000);
    CHECK(images.rows == 28);
    CHECK(images.cols == 28);
    // Sums computed independently (Python's gzip module) from the same files.
    CHECK(std::accumulate(images.pixels.begin(), images.pixels.begin() + 784, 0L) == 76247);
    CHECK(std::accumulate(images.pixels.end() - 784, images.pixels.end(), 0L) == 16684);
    CHECK(images.pixels[14 * 28 + 14] == 217);
    const auto labels = descent::read_idx_labels(real_dir / "train-labels-idx1-ubyte.gz", 10);
    REQUIRE(labels.size() == 60000);
    CHECK(std::vector<int>(labels.begin(), labels.begin() + 6) == std::vector<int>{9, 0, 0, 3, 0, 2});
    for (int c = 0; c < 10; ++c) CHECK(std::count(labels.begin(), labels.end(), c) == 6000);
}
