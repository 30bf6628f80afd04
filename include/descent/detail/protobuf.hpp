#pragma once
// The protocol-buffers wire format, enough of it to read and write ONNX files (io/onnx*.hpp).
//
// Why not libprotobuf: descent is header-only and needs only Eigen and zlib. libprotobuf would
// add a compiled library, a code generator run on onnx.proto, and a version to match the
// user's own protobuf; and its parser allocates whatever a length field claims before it knows
// the bytes are there, which a reader of files from strangers must not do. ONNX uses a small
// part of the format (varints, 32/64-bit fixed fields, length-delimited fields), which fits in
// this header.
//
// The format (protobuf's "Encoding" page): a message is a sequence of fields, each a key
// varint (field number << 3 | wire type) and a value:
//   wire type 0  varint: 7 bits a byte, least significant group first, high bit = "more"
//   wire type 1  8 bytes, little-endian (fixed64, double)
//   wire type 2  a varint length n, then n bytes (strings, bytes, messages, packed repeated)
//   wire type 5  4 bytes, little-endian (fixed32, float)
// Groups (wire types 3 and 4) are deprecated and appear in no ONNX file: they are refused.
// Repeated fields repeat the key; repeated numbers may instead be "packed" into one wire-type-2
// field, and a reader must accept both.
#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace descent::detail::protobuf {

// The bytes do not follow the wire format. Internal: the file readers catch it and throw
// their own typed error, with the file's name.
class wire_error : public std::runtime_error {
public:
    wire_error(const std::string& what, std::size_t offset)
        : std::runtime_error(what + " at byte " + std::to_string(offset)), offset_(offset) {}
    std::size_t offset() const { return offset_; }

private:
    std::size_t offset_;
};

enum class wire_type : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

// One field as read: its number and type, and its value (a varint or fixed value in
// `number`, the payload of a length-delimited field in `bytes`, a view into the message).
struct field {
    std::uint32_t number = 0;
    wire_type type = wire_type::varint;
    std::uint64_t value = 0;
    std::string_view bytes;
    std::size_t offset = 0;  // of the payload, from the start of the outermost message

    // A varint read as a signed protobuf int32/int64 (two's complement, not zigzag).
    std::int64_t as_int64() const { return static_cast<std::int64_t>(value); }
    float as_float() const { return std::bit_cast<float>(static_cast<std::uint32_t>(value)); }
    double as_double() const { return std::bit_cast<double>(value); }
};

// Reads the fields of one message in order, never past its end. Every length is checked
// against the bytes that remain before anything is done with it, so a hostile length costs
// nothing; nothing here allocates.
class reader {
public:
    // `base`: where `bytes` starts in the outermost message, so that errors name file offsets.
    explicit reader(std::string_view bytes, std::size_t base = 0) : bytes_(bytes), base_(base) {}

    bool done() const { return at_ == bytes_.size(); }

    // The next field. throws: wire_error (a varint over 10 bytes, field number 0, a group,
    // an unknown wire type, a length or fixed value beyond the end).
    field next() {
        field f;
        const std::size_t key_at = at_;
        const std::uint64_t key = varint();
        const std::uint64_t number = key >> 3;
        if (number == 0 || number > 0x1FFFFFFF) fail("field number " + std::to_string(number), key_at);
        f.number = static_cast<std::uint32_t>(number);
        const auto type = static_cast<unsigned>(key & 7);
        switch (type) {
            case 0:
                f.type = wire_type::varint;
                f.offset = base_ + at_;
                f.value = varint();
                break;
            case 1:
                f.type = wire_type::fixed64;
                f.offset = base_ + at_;
                f.value = fixed(8);
                break;
            case 2: {
                f.type = wire_type::length_delimited;
                const std::uint64_t n = varint();
                if (n > bytes_.size() - at_)
                    fail("a length of " + std::to_string(n) + " bytes where " +
                             std::to_string(bytes_.size() - at_) + " remain",
                         at_);
                f.offset = base_ + at_;
                f.bytes = bytes_.substr(at_, static_cast<std::size_t>(n));
                at_ += static_cast<std::size_t>(n);
                break;
            }
            case 5:
                f.type = wire_type::fixed32;
                f.offset = base_ + at_;
                f.value = fixed(4);
                break;
            default:
                fail("wire type " + std::to_string(type) + (type == 3 || type == 4 ? " (a group)" : ""),
                     key_at);
        }
        return f;
    }

    // A reader of a length-delimited field's payload as a message of its own.
    static reader of(const field& f) { return reader(f.bytes, f.offset); }

private:
    [[noreturn]] void fail(const std::string& what, std::size_t at) const {
        throw wire_error(what, base_ + at);
    }

    std::uint64_t varint() {
        const std::size_t start = at_;
        std::uint64_t value = 0;
        for (int shift = 0; shift < 70; shift += 7) {
            if (at_ == bytes_.size()) fail("a varint cut off by the end of the message", start);
            const auto byte = static_cast<std::uint8_t>(bytes_[at_++]);
            // The 10th byte may only hold the 64th bit.
            if (shift == 63 && byte > 1) fail("a varint over 64 bits", start);
            value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
            if ((byte & 0x80) == 0) return value;
        }
        fail("a varint over 10 bytes", start);
    }
    std::uint64_t fixed(std::size_t n) {
        if (n > bytes_.size() - at_)
            fail("a " + std::to_string(n * 8) + "-bit value cut off by the end of the message", at_);
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < n; ++i)
            value |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes_[at_ + i])) << (8 * i);
        at_ += n;
        return value;
    }

    std::string_view bytes_;
    std::size_t base_;
    std::size_t at_ = 0;
};

// Decodes the packed varints of a wire-type-2 field one by one: a `packed repeated int64`.
// throws: wire_error as reader::next.
template <class Visit>
void for_each_packed_varint(const field& f, Visit&& visit) {
    // A packed run has no keys; read it as a message of key-less varints by hand.
    std::string_view bytes = f.bytes;
    std::size_t at = 0;
    while (at < bytes.size()) {
        const std::size_t start = at;
        std::uint64_t value = 0;
        for (int shift = 0;; shift += 7) {
            if (shift >= 70) throw wire_error("a varint over 10 bytes", f.offset + start);
            if (at == bytes.size())
                throw wire_error("a varint cut off by the end of a packed field", f.offset + start);
            const auto byte = static_cast<std::uint8_t>(bytes[at++]);
            if (shift == 63 && byte > 1) throw wire_error("a varint over 64 bits", f.offset + start);
            value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
            if ((byte & 0x80) == 0) break;
        }
        visit(value);
    }
}

// Writes a message, field by field. A nested message is written into a writer of its own and
// appended with message(): its length must be known before its bytes.
class writer {
public:
    void varint(std::uint32_t number, std::uint64_t value) {
        key(number, wire_type::varint);
        put_varint(value);
    }
    // A signed int32/int64 field: negative values take 10 bytes, as protobuf writes them.
    void int64(std::uint32_t number, std::int64_t value) {
        varint(number, static_cast<std::uint64_t>(value));
    }
    void fixed32(std::uint32_t number, float value) {
        key(number, wire_type::fixed32);
        put_little_endian(std::bit_cast<std::uint32_t>(value), 4);
    }
    void fixed64(std::uint32_t number, double value) {
        key(number, wire_type::fixed64);
        put_little_endian(std::bit_cast<std::uint64_t>(value), 8);
    }
    void bytes(std::uint32_t number, std::string_view payload) {
        key(number, wire_type::length_delimited);
        put_varint(payload.size());
        out_.append(payload);
    }
    void message(std::uint32_t number, const writer& inner) { bytes(number, inner.out_); }
    // A packed repeated varint field (as protobuf 3 writes `repeated int64`).
    template <class Range>
    void packed_varints(std::uint32_t number, const Range& values) {
        writer run;
        for (const auto v : values) run.put_varint(static_cast<std::uint64_t>(v));
        bytes(number, run.out_);
    }

    const std::string& str() const& { return out_; }
    std::string str() && { return std::move(out_); }
    // Room for `n` more bytes, so that a large payload is copied once.
    void reserve(std::size_t n) { out_.reserve(out_.size() + n); }

private:
    void key(std::uint32_t number, wire_type type) {
        put_varint((static_cast<std::uint64_t>(number) << 3) | static_cast<std::uint64_t>(type));
    }
    void put_varint(std::uint64_t value) {
        while (value >= 0x80) {
            out_ += static_cast<char>(static_cast<std::uint8_t>(value) | 0x80);
            value >>= 7;
        }
        out_ += static_cast<char>(value);
    }
    void put_little_endian(std::uint64_t value, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i)
            out_ += static_cast<char>(static_cast<std::uint8_t>(value >> (8 * i)));
    }

    std::string out_;
};

}  // namespace descent::detail::protobuf
