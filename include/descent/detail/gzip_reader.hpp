#pragma once
// Sequential reads through zlib's gz* interface: a .gz file is inflated on the
// fly and a plain file is read as it is, so a data set needs no unpacking.
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <new>
#include <string>
#include <system_error>

#include "../error.hpp"
#include "file.hpp"

namespace descent::detail {

class GzipReader {
public:
    // throws: io_error naming the path and errno's text.
    explicit GzipReader(const std::filesystem::path& path) : path_(path.string()) {
        errno = 0;
        file_ = gzopen(path_.c_str(), "rb");
        if (!file_) {
            if (errno == 0) throw std::bad_alloc();  // zlib's only other reason
            throw io_error("cannot open " + path_ + ": " + errno_text(errno));
        }
        // Up to 128 KiB, larger than zlib's default 8 KiB, for fewer system
        // calls on a data set; but no larger than the file needs, since zlib
        // allocates 3 times this for each file opened.
        std::error_code error;
        const std::uintmax_t size = std::filesystem::file_size(path_, error);
        const std::uintmax_t buffer = error ? 1u << 17 : std::clamp<std::uintmax_t>(size, 1u << 13, 1u << 17);
        gzbuffer(file_, static_cast<unsigned>(buffer));
    }
    ~GzipReader() { gzclose(file_); }
    GzipReader(const GzipReader&) = delete;
    GzipReader& operator=(const GzipReader&) = delete;

    const std::string& path() const { return path_; }

    // A first guess at how many bytes the file yields, to size a buffer before
    // the bytes arrive: a plain file's size (exact), 8 times a gzip file's size
    // (data sets inflate 2- to 5-fold), or 0 when unknown (not a regular file).
    // Not deflate's worst case, 1032-fold: a header that lies would then
    // reserve a gigabyte for a 1 MB file.
    std::uint64_t size_hint() const {
        std::error_code error;
        const std::uint64_t size = std::filesystem::file_size(path_, error);
        if (error) return 0;
        return gzdirect(file_) ? size : size * 8;
    }

    // Reads up to n bytes into `to`; fewer only at the end of the data.
    // throws: io_error (the system could not read), data_error (a damaged or
    //         truncated gzip stream: zlib reports the latter only once the
    //         data runs out, which is why every short read asks it).
    std::size_t read(void* to, std::size_t n) {
        auto* out = static_cast<unsigned char*>(to);
        std::size_t done = 0;
        while (done < n) {
            const auto want = static_cast<unsigned>(std::min<std::size_t>(n - done, 1u << 30));
            const int got = gzread(file_, out + done, want);
            if (got > 0) done += static_cast<std::size_t>(got);
            if (got < static_cast<int>(want)) {
                check();
                break;
            }
        }
        return done;
    }

private:
    void check() {
        int code = Z_OK;
        const char* message = gzerror(file_, &code);
        if (code == Z_OK || code == Z_STREAM_END) return;
        if (code == Z_ERRNO) throw io_error("cannot read " + path_ + ": " + errno_text(errno));
        if (code == Z_MEM_ERROR) throw std::bad_alloc();
        if (code == Z_BUF_ERROR)
            throw data_error(path_ + ": truncated gzip data (the compressed stream ends early)");
        throw data_error(path_ + ": damaged gzip data (" + std::string(message ? message : "zlib error") +
                         ")");
    }

    std::string path_;
    gzFile file_ = nullptr;
};

}  // namespace descent::detail
