// libFuzzer harness of the IDX reader (data/idx.hpp): images and labels, from
// a plain file and from gzip.
//
// Each input is read three ways: as it is (plain IDX, or gzip when it starts
// with gzip's magic), gzip-compressed by the harness (so that the mutations
// reach the IDX header behind zlib rather than only zlib's own checksums), and
// that gzip stream cut short (the truncated download). Each way goes through
// both read_idx_images and read_idx_labels.
//
// Promised: a data_error or a result that keeps the reader's contract; never
// another exception (an io_error, std::bad_alloc from a size the header
// claims), a crash, a leak or a hang. And the three ways agree: a plain file
// and its gzip read the same, a cut gzip stream never reads.
#include <algorithm>
#include <cstdint>
#include <descent/data/idx.hpp>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_support.hpp"

namespace {

struct Read {
    std::optional<descent::IdxImages> images;
    std::optional<std::vector<int>> labels;
};

Read read_both(const std::string& path) {
    Read read;
    try {
        read.images = descent::read_idx_images(path);
        const auto& images = *read.images;
        DESCENT_FUZZ_CHECK(images.count > 0 && images.rows > 0 && images.cols > 0);
        DESCENT_FUZZ_CHECK(images.pixels.size() ==
                           static_cast<std::size_t>(images.count * images.rows * images.cols));
        const auto x = descent::scale_pixels<float>(images);
        DESCENT_FUZZ_CHECK(x.rows() == images.rows * images.cols && x.cols() == images.count);
        DESCENT_FUZZ_CHECK(x.minCoeff() >= 0.0f && x.maxCoeff() <= 1.0f);
    } catch (const descent::data_error&) {
    }
    try {
        read.labels = descent::read_idx_labels(path, 10);
        DESCENT_FUZZ_CHECK(!read.labels->empty());
        DESCENT_FUZZ_CHECK(std::ranges::all_of(*read.labels, [](int y) { return y >= 0 && y < 10; }));
    } catch (const descent::data_error&) {
    }
    return read;
}

bool same(const Read& a, const Read& b) {
    if (a.images.has_value() != b.images.has_value() || a.labels != b.labels) return false;
    return !a.images || (a.images->count == b.images->count && a.images->rows == b.images->rows &&
                         a.images->cols == b.images->cols && a.images->pixels == b.images->pixels);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static descent::fuzz::MemoryFile file;
    const auto bytes = descent::fuzz::as_text(data, size);
    const Read plain = read_both(file.hold(bytes));
    const std::string packed = descent::fuzz::gzip(bytes);
    const Read inflated = read_both(file.hold(packed));
    // zlib reads a file that starts with gzip's magic as gzip: only other files are plain IDX.
    if (!bytes.starts_with("\x1F\x8B")) DESCENT_FUZZ_CHECK(same(plain, inflated));
    // Cut inside the 8-byte trailer (CRC-32, length) or in the deflate stream.
    const Read cut = read_both(file.hold(std::string_view(packed).substr(0, packed.size() - 1 - size % 16)));
    DESCENT_FUZZ_CHECK(!cut.images && !cut.labels);
    return 0;
}
