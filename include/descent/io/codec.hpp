#pragma once
// The binary codec under descent's file formats (model files, checkpoints): a byte writer, a
// bounds-checked byte reader, and the frame every such file is wrapped in.
//
// The frame, frozen for every format and every future version of one:
//
//   bytes   field
//   m       magic            the format's own; starts 89 "descent" and ends \r \n 1A \n, as PNG's
//                            (the non-ASCII byte and the line ends catch text-mode transfers)
//   1       byte order       'L' little-endian, 'B' big-endian (the writer's own), of every
//                            multi-byte field after it
//   4       format version   1, 2, ...
//   n       payload          the format's
//   4       CRC-32           of every byte before it (detail/crc32.hpp, zlib's values)
//
// So a file is checked for damage before its version is believed, a newer file is told apart
// from a corrupt one, and a file of another format from both.
//
// A format is a policy type: its magic, its newest version, its name in messages, and the
// typed error for each way a file can fail to be one, so that the same reader throws
// corrupt_model_file_error for a model file and corrupt_checkpoint_error for a checkpoint:
//
//   struct ModelFileFormat {
//       static constexpr std::string_view magic = ...;
//       static constexpr std::uint32_t oldest = 1, version = 2;  // the versions it reads
//       static constexpr std::string_view noun = "model file", reread = "load it";
//       static std::string foreign(std::string_view bytes);  // "; it is a ..." or ""
//       using not_this_error = not_a_model_file_error;
//       using corrupt_error = corrupt_model_file_error;
//       using version_error = model_version_error;
//   };
#include <algorithm>
#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "../detail/crc32.hpp"
#include "../error.hpp"

namespace descent::detail {

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big,
              "descent's files need a little- or big-endian machine");

template <class F>
concept FileFormat = requires(std::string_view bytes) {
    { F::magic } -> std::convertible_to<std::string_view>;
    { F::oldest } -> std::convertible_to<std::uint32_t>;
    { F::version } -> std::convertible_to<std::uint32_t>;
    { F::noun } -> std::convertible_to<std::string_view>;
    { F::reread } -> std::convertible_to<std::string_view>;
    { F::foreign(bytes) } -> std::convertible_to<std::string>;
    requires std::derived_from<typename F::not_this_error, error>;
    requires std::derived_from<typename F::corrupt_error, error>;
    requires std::derived_from<typename F::version_error, error>;
};

// A value the codec writes as its bytes: integers, chars, IEEE-754 float and double.
template <class T>
concept Field = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

// Fields appended in a chosen byte order.
class ByteWriter {
public:
    explicit ByteWriter(std::endian order = std::endian::native) : order_(order) {}

    template <Field T>
    void put(T value) {
        char raw[sizeof(T)];
        std::memcpy(raw, &value, sizeof(T));
        if (order_ != std::endian::native) std::reverse(raw, raw + sizeof(T));
        bytes_.append(raw, sizeof(T));
    }
    // n values in a row: one copy when the order is this machine's.
    template <Field T>
    void put(const T* values, std::size_t n) {
        if (n == 0) return;  // values may be null then (an empty Eigen vector's data())
        if (order_ == std::endian::native)
            bytes_.append(reinterpret_cast<const char*>(values), n * sizeof(T));
        else
            for (std::size_t i = 0; i < n; ++i) put(values[i]);
    }
    void put_bytes(std::string_view bytes) { bytes_.append(bytes); }
    // A block: its length (8 bytes), then what write(ByteWriter&) appends to this writer.
    template <class Write>
    void put_block(Write&& write) {
        const std::size_t at = bytes_.size();
        put(std::uint64_t{0});
        std::forward<Write>(write)(*this);
        ByteWriter length(order_);
        length.put(static_cast<std::uint64_t>(bytes_.size() - at - 8));
        bytes_.replace(at, 8, length.bytes());
    }
    // A string: its length (4 bytes), then its bytes.
    void put_string(std::string_view text) {
        put(static_cast<std::uint32_t>(text.size()));
        bytes_.append(text);
    }
    std::endian order() const { return order_; }
    std::string& bytes() { return bytes_; }

private:
    std::endian order_;
    std::string bytes_;
};

// Fields read back from bytes in a given order. Running past the end, or a count that the
// remaining bytes cannot hold, is Format::corrupt_error naming the file and the field, thrown
// before anything is allocated for it: no input makes the reader allocate more than the
// bytes it has been given.
template <FileFormat Format>
class ByteReader {
public:
    ByteReader(std::string_view bytes, std::endian order, const std::string& name)
        : bytes_(bytes), order_(order), name_(&name) {}

    template <Field T>
    T get(const char* field) {
        need(sizeof(T), field);
        char raw[sizeof(T)];
        std::memcpy(raw, bytes_.data() + at_, sizeof(T));
        if (order_ != std::endian::native) std::reverse(raw, raw + sizeof(T));
        at_ += sizeof(T);
        T value;
        std::memcpy(&value, raw, sizeof(T));
        return value;
    }
    // n values into `out`, which the caller sized after get_count.
    template <Field T>
    void get(T* out, std::size_t n, const char* field) {
        if (n > remaining() / sizeof(T)) throw corrupt("it ends inside the " + std::string(field));
        if (n == 0) return;  // out may be null then (an empty Eigen vector's data())
        if (order_ == std::endian::native) {
            std::memcpy(out, bytes_.data() + at_, n * sizeof(T));
            at_ += n * sizeof(T);
        } else {
            for (std::size_t i = 0; i < n; ++i) out[i] = get<T>(field);
        }
    }
    std::string_view get_bytes(std::size_t n, const char* field) {
        need(n, field);
        const auto view = bytes_.substr(at_, n);
        at_ += n;
        return view;
    }
    // A block as put_block writes it, as a reader of its own (whose expect_end checks that the
    // block's content ends where its length says).
    ByteReader get_block(const char* field) {
        const auto length = get<std::uint64_t>(field);
        if (length > remaining())
            throw corrupt("the " + std::string(field) + " claims " + std::to_string(length) + " bytes, " +
                          std::to_string(remaining()) + " remain");
        return ByteReader(get_bytes(static_cast<std::size_t>(length), field), order_, *name_);
    }
    // A string as put_string writes it.
    std::string get_string(const char* field) {
        return std::string(get_bytes(get<std::uint32_t>(field), field));
    }
    // A string of at most 255 bytes after a 1-byte length (model files of version 1).
    std::string get_short_string(const char* field) {
        return std::string(get_bytes(get<std::uint8_t>(field), field));
    }
    // A count (8 bytes) of items of at least `item_size` bytes each, which must fit in what remains.
    std::uint64_t get_count(std::size_t item_size, const char* field) {
        return check_count(get<std::uint64_t>(field), item_size, field);
    }
    template <std::unsigned_integral T>
    T check_count(T n, std::size_t item_size, const char* field) const {
        if (n > remaining() / item_size)
            throw corrupt("its " + std::string(field) + " claims " + std::to_string(n) +
                          " entries, more than the " + std::to_string(remaining()) + " bytes left hold");
        return n;
    }
    // The field is the last: nothing may follow it.
    void expect_end(const char* field) const {
        if (remaining() != 0)
            throw corrupt(std::to_string(remaining()) + " bytes follow the " + std::string(field));
    }

    std::size_t remaining() const { return bytes_.size() - at_; }
    std::endian order() const { return order_; }
    const std::string& name() const { return *name_; }
    // "<file>: corrupt <noun>: <what>", as the format's own error.
    typename Format::corrupt_error corrupt(const std::string& what) const {
        return
            typename Format::corrupt_error(*name_ + ": corrupt " + std::string(Format::noun) + ": " + what);
    }

private:
    void need(std::size_t n, const char* field) const {
        if (n > remaining()) throw corrupt("it ends inside the " + std::string(field));
    }
    std::string_view bytes_;
    std::endian order_;
    const std::string* name_;  // the caller's, which outlives the reader
    std::size_t at_ = 0;
};

// A whole file in Format: the header, what write_payload(ByteWriter&) appends, the CRC-32.
template <FileFormat Format, class WritePayload>
std::string encode_frame(std::endian order, WritePayload&& write_payload) {
    ByteWriter out(order);
    out.put_bytes(Format::magic);
    out.put(order == std::endian::little ? 'L' : 'B');
    out.put(static_cast<std::uint32_t>(Format::version));
    std::forward<WritePayload>(write_payload)(out);
    out.put(crc32(out.bytes()));
    return std::move(out.bytes());
}

// A framed file's version and a reader over its payload, after the frame's checks.
template <FileFormat Format>
struct Frame {
    std::uint32_t version;
    ByteReader<Format> payload;
};

// Checks the frame of `bytes` (the file `name`, which must outlive the returned reader):
// magic, length, byte order, CRC-32, version, in this order.
// throws: Format::not_this_error (another magic number, the file empty or of another format),
//         Format::corrupt_error (truncated, damaged, version 0), Format::version_error (a version
//         outside [Format::oldest, Format::version]).
template <FileFormat Format>
Frame<Format> open_frame(std::string_view bytes, const std::string& name) {
    const std::string_view magic = Format::magic;
    const std::string noun(Format::noun);
    const ByteReader<Format> file(bytes, std::endian::native, name);
    auto corrupt = [&](const std::string& what) { return file.corrupt(what); };
    if (!bytes.empty() && bytes.size() < magic.size() && magic.starts_with(bytes))
        throw corrupt("truncated to " + std::to_string(bytes.size()) + " bytes, inside the magic number");
    if (!bytes.starts_with(magic))
        throw typename Format::not_this_error(
            name + ": not a descent " + noun + " (wrong magic number" +
            (bytes.empty() ? std::string("; the file is empty") : std::string(Format::foreign(bytes))) + ")");
    const std::size_t header = magic.size() + 1 + 4;
    if (bytes.size() < header + 4)
        throw corrupt("truncated to " + std::to_string(bytes.size()) + " bytes, shorter than any " + noun);
    const char mark = bytes[magic.size()];
    if (mark != 'L' && mark != 'B') throw corrupt("the byte order is neither 'L' nor 'B'");
    const std::endian order = mark == 'L' ? std::endian::little : std::endian::big;

    const std::string_view body = bytes.substr(0, bytes.size() - 4);
    ByteReader<Format> trailer(bytes.substr(body.size()), order, name);
    if (trailer.template get<std::uint32_t>("checksum") != crc32(body))
        throw corrupt(
            "the CRC-32 does not match its content (the file was truncated, damaged or appended to)");

    ByteReader<Format> version_field(body.substr(magic.size() + 1, 4), order, name);
    const auto version = version_field.template get<std::uint32_t>("header");
    if (version == 0) throw corrupt("format version 0 does not exist");
    if (version > Format::version)
        throw typename Format::version_error(
            name + ": " + noun + " format version " + std::to_string(version) +
            " is newer than this descent reads (up to version " + std::to_string(Format::version) + "); " +
            std::string(Format::reread) + " with a newer descent");
    if (version < Format::oldest)
        throw typename Format::version_error(
            name + ": " + noun + " format version " + std::to_string(version) +
            " is older than this descent reads (from version " + std::to_string(Format::oldest) + "); " +
            std::string(Format::reread) + " with the descent that wrote it");
    return {version, ByteReader<Format>(body.substr(header), order, name)};
}

}  // namespace descent::detail
