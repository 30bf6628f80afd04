// The protobuf wire format (detail/protobuf.hpp): the encodings of protobuf's own documentation,
// byte for byte, both packings of repeated numbers, and every way a message can break, each
// refused with the offset where it broke.
#include <cstdint>
#include <descent/detail/protobuf.hpp>
#include <limits>
#include <string>
#include <vector>

#include "file_support.hpp"
#include "support.hpp"

using Catch::Matchers::Contains;
using descent::detail::protobuf::field;
using descent::detail::protobuf::reader;
using descent::detail::protobuf::wire_error;
using descent::detail::protobuf::wire_type;
using descent::detail::protobuf::writer;
using descent::test::message_of;

namespace {

std::string bytes_of(std::initializer_list<int> values) {
    std::string s;
    for (const int v : values) s += static_cast<char>(v);
    return s;
}

}  // namespace

TEST_CASE("varints, fixed and length-delimited fields are written as protobuf's documentation spells them",
          "[protobuf]") {
    writer w;
    w.varint(1, 150);  // the documentation's example: 08 96 01
    CHECK(w.str() == bytes_of({0x08, 0x96, 0x01}));

    writer s;
    s.bytes(2, "testing");  // 12 07 74 65 73 74 69 6e 67
    CHECK(s.str() == bytes_of({0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'}));

    writer n;
    n.int64(1, -1);  // an int64 -1 is ten bytes: nine 0xFF and 0x01
    CHECK(n.str() == bytes_of({0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));

    writer f;
    f.fixed32(2, 1.0f);  // key 0x15, then 0x3F800000 little-endian
    CHECK(f.str() == bytes_of({0x15, 0x00, 0x00, 0x80, 0x3F}));

    writer d;
    d.fixed64(1, 1.0);  // key 0x09, then 0x3FF0000000000000 little-endian
    CHECK(d.str() == bytes_of({0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F}));

    writer p;
    p.packed_varints(4, std::vector<std::int64_t>{3, 270, 86942});  // 22 06 03 8E 02 9E A7 05
    CHECK(p.str() == bytes_of({0x22, 0x06, 0x03, 0x8E, 0x02, 0x9E, 0xA7, 0x05}));
}

TEST_CASE("what the writer writes, the reader reads back, with offsets into the message", "[protobuf]") {
    writer inner;
    inner.varint(1, std::numeric_limits<std::uint64_t>::max());
    inner.fixed32(2, -2.5f);
    inner.fixed64(3, 0.1);
    writer outer;
    outer.bytes(7, "name");
    outer.message(9, inner);
    outer.int64(536870911, -5);  // the largest field number

    reader r(outer.str());
    field a = r.next();
    CHECK(a.number == 7);
    CHECK(a.type == wire_type::length_delimited);
    CHECK(a.bytes == "name");
    CHECK(a.offset == 2);
    field b = r.next();
    CHECK(b.number == 9);
    CHECK(b.offset == 8);
    field c = r.next();
    CHECK(c.number == 536870911);
    CHECK(c.as_int64() == -5);
    CHECK(r.done());

    reader in = reader::of(b);
    CHECK(in.next().value == std::numeric_limits<std::uint64_t>::max());
    CHECK(in.next().as_float() == -2.5f);
    const field x = in.next();
    CHECK(x.type == wire_type::fixed64);
    CHECK(x.as_double() == 0.1);
    CHECK(x.offset == 8 + 1 + 10 + 1 + 4 + 1);  // the inner message's start, then its fields
    CHECK(in.done());
}

TEST_CASE("packed varints decode one by one, and a broken run is refused", "[protobuf]") {
    writer p;
    p.packed_varints(1, std::vector<std::int64_t>{0, 1, 300, -1});
    reader r(p.str());
    const field f = r.next();
    std::vector<std::uint64_t> values;
    descent::detail::protobuf::for_each_packed_varint(f, [&](std::uint64_t v) { values.push_back(v); });
    CHECK(values == std::vector<std::uint64_t>{0, 1, 300, std::numeric_limits<std::uint64_t>::max()});

    const std::string cut = bytes_of({0x0A, 0x02, 0x01, 0x80});  // the second varint never ends
    reader rc(cut);
    const field fc = rc.next();
    CHECK_THROWS_WITH(descent::detail::protobuf::for_each_packed_varint(fc, [](std::uint64_t) {}),
                      "a varint cut off by the end of a packed field at byte 3");
}

TEST_CASE("a broken message is refused with what broke and where, never read past its end", "[protobuf]") {
    auto error_of = [](const std::string& bytes) {
        return message_of<wire_error>([&] {
            reader r(bytes);
            while (!r.done()) r.next();
        });
    };
    CHECK(error_of(bytes_of({0x08})) == "a varint cut off by the end of the message at byte 1");
    CHECK(error_of(bytes_of({0x08, 0x96})) == "a varint cut off by the end of the message at byte 1");
    CHECK(error_of(bytes_of({0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02})) ==
          "a varint over 64 bits at byte 1");
    CHECK(error_of(bytes_of({0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x81, 0x00})) ==
          "a varint over 64 bits at byte 1");
    CHECK(error_of(bytes_of({0x12, 0x05, 'a', 'b'})) == "a length of 5 bytes where 2 remain at byte 2");
    // A length of 2^63: no arithmetic on it may wrap.
    CHECK(error_of(bytes_of({0x12, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})) ==
          "a length of 9223372036854775808 bytes where 0 remain at byte 11");
    CHECK(error_of(bytes_of({0x0B})) == "wire type 3 (a group) at byte 0");
    CHECK(error_of(bytes_of({0x0E})) == "wire type 6 at byte 0");
    CHECK(error_of(bytes_of({0x00, 0x00})) == "field number 0 at byte 0");
    CHECK(error_of(bytes_of({0x15, 0x00, 0x00})) ==
          "a 32-bit value cut off by the end of the message at byte 1");
    CHECK(error_of(bytes_of({0x09, 0x00})) == "a 64-bit value cut off by the end of the message at byte 1");
    // Offsets count from the outermost message.
    const std::string nested = bytes_of({0x0A, 0x03, 0x12, 0x09, 0x00});
    reader outer(nested);
    reader inner = reader::of(outer.next());
    CHECK_THAT(message_of<wire_error>([&] { inner.next(); }), Contains("at byte 4"));
}
