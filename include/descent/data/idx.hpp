#pragma once
// The IDX format of MNIST and Fashion-MNIST, read from the .gz files as they
// are distributed (or from plain files: zlib reads both).
//
// An IDX file is a 4-byte magic number 0x0000TTNN (TT the element type, 0x08
// for unsigned bytes; NN the number of dimensions), NN sizes as big-endian
// 32-bit integers, then the elements, row-major. Images are idx3
// (count x rows x cols), labels idx1 (count).
//
// Every field is checked against what is actually in the file: a header can
// claim anything, so the payload is read in growing chunks and never
// allocated from the header's word alone, and a short or overlong payload is
// an error, not a silent partial read.
#include <Eigen/Core>
#include <array>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "../detail/gzip_reader.hpp"
#include "../detail/huge_pages.hpp"
#include "../error.hpp"
#include "dataset.hpp"

namespace descent {

// `count` images of rows x cols pixels, one after the other, each row-major.
struct IdxImages {
    Eigen::Index count = 0;
    Eigen::Index rows = 0;
    Eigen::Index cols = 0;
    std::vector<std::uint8_t> pixels;  // count * rows * cols bytes: image t starts at t * rows * cols
};

namespace detail {

inline constexpr std::uint32_t idx_images_magic = 0x00000803;  // unsigned bytes, 3 dimensions
inline constexpr std::uint32_t idx_labels_magic = 0x00000801;  // unsigned bytes, 1 dimension

inline std::string hex(std::uint32_t value, int digits) {
    char text[11];
    std::snprintf(text, sizeof text, "0x%0*X", digits, static_cast<unsigned>(value));
    return text;
}

// The sizes after a checked magic number.
// throws: data_error naming the file and what is wrong with it.
inline std::vector<std::uint64_t> read_idx_header(GzipReader& in, std::uint32_t expected_magic,
                                                  const char* kind) {
    const std::size_t dimensions = expected_magic & 0xFFu;
    std::array<unsigned char, 4> magic{};
    const std::size_t got = in.read(magic.data(), magic.size());
    if (got == 0) throw data_error(in.path() + ": empty file, expected " + kind);
    if (got < magic.size())
        throw data_error(in.path() + ": truncated: " + std::to_string(got) + " bytes, too short for the " +
                         "magic number of " + kind);
    const std::uint32_t found = std::uint32_t{magic[0]} << 24 | std::uint32_t{magic[1]} << 16 |
                                std::uint32_t{magic[2]} << 8 | std::uint32_t{magic[3]};
    if (found != expected_magic) {
        std::string why;
        if (magic[0] != 0 || magic[1] != 0)
            why = ": not an IDX file";
        else if (magic[2] != 0x08)
            why = ": element type " + hex(magic[2], 2) + " is not 0x08 (unsigned byte)";
        else
            why = ": " + std::to_string(magic[3]) + " dimensions, expected " + std::to_string(dimensions);
        throw data_error(in.path() + ": wrong magic number " + hex(found, 8) + ", expected " +
                         hex(expected_magic, 8) + " (" + kind + ")" + why);
    }
    std::vector<unsigned char> bytes(4 * dimensions);
    if (in.read(bytes.data(), bytes.size()) != bytes.size())
        throw data_error(in.path() + ": truncated in the header: " + kind + " need " +
                         std::to_string(dimensions) + " sizes of 4 bytes after the magic number");
    std::vector<std::uint64_t> sizes(dimensions);
    for (std::size_t d = 0; d < dimensions; ++d) {
        const unsigned char* b = bytes.data() + 4 * d;
        sizes[d] = std::uint64_t{b[0]} << 24 | std::uint64_t{b[1]} << 16 | std::uint64_t{b[2]} << 8 | b[3];
    }
    return sizes;
}

// Exactly `size` bytes, then the end of the file.
// throws: data_error when the file holds fewer or more bytes than the header
//         announced (`what` says what the header announced).
inline std::vector<std::uint8_t> read_idx_payload(GzipReader& in, std::uint64_t size,
                                                  const std::string& what) {
    // Sized from what the file likely holds, never from the header's word
    // alone, and doubled as the bytes arrive: a header that claims terabytes
    // costs at most twice what the file really holds (or the first guess)
    // before the shortfall is found.
    std::vector<std::uint8_t> data;
    const std::uint64_t hint = in.size_hint();
    const std::uint64_t first = std::min<std::uint64_t>(size, hint > 0 ? hint : 1u << 20);
    data.reserve(static_cast<std::size_t>(first));
    advise_huge_pages(data.data(), data.capacity());
    std::uint64_t have = 0;
    while (have < size) {
        const std::uint64_t want = std::min<std::uint64_t>(size - have, std::max<std::uint64_t>(have, first));
        data.resize(static_cast<std::size_t>(have + want));
        const std::size_t got = in.read(data.data() + have, static_cast<std::size_t>(want));
        have += got;
        if (got < want)
            throw data_error(in.path() + ": truncated: the header announces " + what + " (" +
                             std::to_string(size) + " bytes) but the file holds only " +
                             std::to_string(have));
    }
    std::uint64_t extra = 0;
    unsigned char sink[1 << 16];
    for (std::size_t got; (got = in.read(sink, sizeof sink)) > 0;) extra += got;
    if (extra > 0)
        throw data_error(in.path() + ": " + std::to_string(extra) + " bytes of trailing data after the " +
                         what + " the header announces");
    return data;
}

// a * b, or nothing when it exceeds `limit`.
inline std::optional<std::uint64_t> checked_product(std::uint64_t a, std::uint64_t b, std::uint64_t limit) {
    if (a != 0 && b > limit / a) return std::nullopt;
    return a * b;
}

}  // namespace detail

// The images of an IDX ubyte images file (magic 0x00000803), .gz or plain.
// ensures: count, rows, cols > 0; pixels.size() == count * rows * cols.
// throws: io_error (missing, unreadable), data_error (wrong magic number, zero
//         or unaddressable sizes, truncated file, trailing data, damaged gzip
//         data), each naming the file.
inline IdxImages read_idx_images(const std::filesystem::path& path) {
    detail::GzipReader in(path);
    const auto sizes = detail::read_idx_header(in, detail::idx_images_magic, "IDX images");
    const std::uint64_t count = sizes[0], rows = sizes[1], cols = sizes[2];
    const std::string shape =
        std::to_string(count) + " images of " + std::to_string(rows) + "x" + std::to_string(cols);
    if (count == 0 || rows == 0 || cols == 0) throw data_error(in.path() + ": the header announces " + shape);
    constexpr auto limit = static_cast<std::uint64_t>(std::numeric_limits<std::ptrdiff_t>::max());
    const auto pixels = detail::checked_product(rows, cols, limit);
    const auto total = pixels ? detail::checked_product(*pixels, count, limit) : std::nullopt;
    if (!total)
        throw data_error(in.path() + ": the header announces " + shape +
                         ", more bytes than memory can address");
    IdxImages images;
    images.pixels = detail::read_idx_payload(in, *total, shape);
    images.count = static_cast<Eigen::Index>(count);
    images.rows = static_cast<Eigen::Index>(rows);
    images.cols = static_cast<Eigen::Index>(cols);
    return images;
}

// The labels of an IDX ubyte labels file (magic 0x00000801), .gz or plain.
// When `classes` is given, every label must be in [0, classes).
// ensures: at least one label.
// throws: io_error, data_error as read_idx_images; data_error for a label out of range.
inline std::vector<int> read_idx_labels(const std::filesystem::path& path,
                                        std::optional<int> classes = std::nullopt) {
    detail::GzipReader in(path);
    const auto count = detail::read_idx_header(in, detail::idx_labels_magic, "IDX labels")[0];
    if (count == 0) throw data_error(in.path() + ": the header announces 0 labels");
    const auto bytes = detail::read_idx_payload(in, count, std::to_string(count) + " labels");
    std::vector<int> labels(bytes.begin(), bytes.end());
    if (classes)
        for (std::size_t t = 0; t < labels.size(); ++t)
            if (labels[t] >= *classes)
                throw data_error(in.path() + ": label " + std::to_string(labels[t]) + " of sample " +
                                 std::to_string(t) + " is outside [0, " + std::to_string(*classes) + ")");
    return labels;
}

// Pixel intensities as features in [0, 1]: x_i = byte / 255, one image per
// column (pixel (r, c) of image t is x(r * cols + c, t)).
template <std::floating_point Scalar>
Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> scale_pixels(const IdxImages& images) {
    // Through a table of the 256 quotients: as exact as dividing each pixel,
    // and several times faster than Eigen's cast-then-divide over 47 M pixels.
    std::array<Scalar, 256> quotient;
    for (int v = 0; v < 256; ++v) quotient[static_cast<std::size_t>(v)] = Scalar(v) / Scalar(255);
    Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic> x(images.rows * images.cols, images.count);
    detail::advise_huge_pages(x.data(), static_cast<std::size_t>(x.size()) * sizeof(Scalar));
    Scalar* out = x.data();
    for (const std::uint8_t byte : images.pixels) *out++ = quotient[byte];
    return x;
}

// An images file and its labels file as one Dataset, pixels scaled to [0, 1].
// throws: as read_idx_images and read_idx_labels; data_error when the two
//         files hold different numbers of samples, naming both.
template <std::floating_point Scalar = float>
Dataset<Scalar> load_idx(const std::filesystem::path& images_path, const std::filesystem::path& labels_path,
                         std::optional<int> classes = std::nullopt) {
    // Labels first: the small file fails fast when the pair is wrong.
    std::vector<int> labels = read_idx_labels(labels_path, classes);
    const IdxImages images = read_idx_images(images_path);
    if (static_cast<std::size_t>(images.count) != labels.size())
        throw data_error(images_path.string() + " has " + std::to_string(images.count) + " images but " +
                         labels_path.string() + " has " + std::to_string(labels.size()) + " labels");
    return {scale_pixels<Scalar>(images), std::move(labels)};
}

}  // namespace descent
