#pragma once
// Whole-file reads and atomic whole-file writes, with errors that name the
// path and the operating system's reason.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#if defined(_WIN32)
#include <io.h>
#else
#include <fcntl.h>
#include <unistd.h>
#endif

#include "../error.hpp"

namespace descent::detail {

// errno's text, without strerror's shared buffer.
inline std::string errno_text(int code) {
    return code != 0 ? std::generic_category().message(code) : std::string("unknown error");
}

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

// The bytes of a file.
// throws: io_error naming the path and errno's text (missing, unreadable, a directory).
inline std::string read_file(const std::filesystem::path& path) {
    errno = 0;
    const File file(std::fopen(path.string().c_str(), "rb"));
    if (!file) throw io_error("cannot open " + path.string() + ": " + errno_text(errno));
    std::string bytes;
    char buffer[1 << 16];
    for (;;) {
        const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
        bytes.append(buffer, n);
        if (n < sizeof buffer) {
            if (std::ferror(file.get()))
                throw io_error("cannot read " + path.string() + ": " + errno_text(errno));
            return bytes;
        }
    }
}

// Replaces the file at `path` with `bytes`, so that a reader (or a crash) sees
// either the old file or the complete new one, never a mix: write a temporary
// file in the same directory (a rename across file systems is not atomic),
// flush it to the disk, then rename it over the target.
// ensures: on success the file holds `bytes`; on a throw the old file, if any,
//          is as it was and the temporary file is gone.
// throws: io_error naming the target, the step that failed and errno's text.
inline void atomic_write(const std::filesystem::path& path, std::string_view bytes) {
    namespace fs = std::filesystem;
    const fs::path directory = path.has_parent_path() ? path.parent_path() : fs::path(".");
    auto fail = [&](const std::string& step, const std::string& reason) {
        throw io_error("cannot save " + path.string() + ": " + step + ": " + reason);
    };

    // A unique name: the exclusive mode "x" refuses an existing file, so a
    // collision (another process, another thread) only costs a retry.
    static std::atomic<unsigned long long> counter{0};
    const auto clock =
        static_cast<unsigned long long>(std::chrono::steady_clock::now().time_since_epoch().count());
    fs::path temporary;
    File file;
    for (int attempt = 0; !file; ++attempt) {
        std::string name = path.filename().string();
        name.insert(name.begin(), '.');  // hidden, where ls and globs do not show it
        name += ".tmp-" + std::to_string((clock + counter.fetch_add(1)) % 1000000007ull);
        temporary = directory / name;
        errno = 0;
        file.reset(std::fopen(temporary.string().c_str(), "wbx"));
        const int code = errno;
        if (!file && (code != EEXIST || attempt == 100))
            fail("cannot create the temporary file " + temporary.string(), errno_text(code));
    }
    struct RemoveUnlessRenamed {
        const fs::path& temporary;
        bool renamed = false;
        ~RemoveUnlessRenamed() {
            std::error_code ignored;
            if (!renamed) fs::remove(temporary, ignored);
        }
    } cleanup{temporary};

    errno = 0;
    if (std::fwrite(bytes.data(), 1, bytes.size(), file.get()) != bytes.size() ||
        std::fflush(file.get()) != 0)
        fail("cannot write " + temporary.string(), errno_text(errno));
#if defined(_WIN32)
    const int synced = _commit(_fileno(file.get()));
#else
    const int synced = ::fsync(fileno(file.get()));
#endif
    if (synced != 0) fail("cannot flush " + temporary.string() + " to the disk", errno_text(errno));
    errno = 0;
    if (std::fclose(file.release()) != 0) fail("cannot close " + temporary.string(), errno_text(errno));

    std::error_code code;
    fs::rename(temporary, path, code);
    if (code) fail("cannot rename " + temporary.string() + " over it", code.message());
    cleanup.renamed = true;

#if !defined(_WIN32)
    // Make the rename itself durable. Best effort: the new file is already in
    // place, so a failure here must not report the save as failed.
    const int dir = ::open(directory.string().c_str(), O_RDONLY);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
#endif
}

}  // namespace descent::detail
