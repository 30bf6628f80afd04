#pragma once
// What the tests of file readers and writers share.
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>
#include <string_view>

#include "catch.hpp"

namespace descent::test {

// A fresh directory for the files a test writes (broken data files, models),
// removed with everything in it when the test ends.
class TempDir {
public:
    TempDir() {
        static std::atomic<unsigned> counter{0};
        const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
        path_ = std::filesystem::temp_directory_path() /
                ("descent-test-" + std::to_string(stamp) + "-" + std::to_string(counter++));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

    // Writes `bytes` to <dir>/<name> and returns the path.
    std::filesystem::path write(const std::string& name, std::string_view bytes) const {
        const auto file = path_ / name;
        std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        return file;
    }

private:
    std::filesystem::path path_;
};

// v as 4 big-endian bytes, as IDX files store their sizes.
inline void put_big_endian(std::string& out, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

// The header of an IDX file: the magic number, then each size.
inline std::string idx_header(std::uint32_t magic, std::initializer_list<std::uint32_t> sizes) {
    std::string out;
    put_big_endian(out, magic);
    for (const std::uint32_t s : sizes) put_big_endian(out, s);
    return out;
}

// Writes `bytes` gzipped to <dir>/<name> and returns the path.
inline std::filesystem::path write_gz(const TempDir& dir, const std::string& name, const std::string& bytes) {
    const auto file = dir / name;
    gzFile gz = gzopen(file.string().c_str(), "wb");
    REQUIRE(gz != nullptr);
    if (!bytes.empty())
        REQUIRE(gzwrite(gz, bytes.data(), static_cast<unsigned>(bytes.size())) == int(bytes.size()));
    REQUIRE(gzclose(gz) == Z_OK);
    return file;
}

// The bytes of a file, for comparisons.
inline std::string contents(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The message of the E that f() throws; fails the test when f() throws
// nothing (an exception of another type propagates and fails it too).
template <class E, class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e.what();
    }
    FAIL("no exception thrown");
    return {};
}

}  // namespace descent::test
