#pragma once
// CRC-32 (the IEEE 802.3 polynomial, as zlib, PNG and gzip use), so that checksums of files
// and data need no library: a table of 256 entries built at compile time, a byte at a time.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace descent::detail {

inline constexpr std::array<std::uint32_t, 256> crc32_table = [] {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t n = 0; n < 256; ++n) {
        std::uint32_t c = n;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[n] = c;
    }
    return table;
}();

// Continues a running CRC-32 `crc` (0 to start) over `bytes`: crc32(crc32(0, a), b) == crc32(0, a + b).
inline std::uint32_t crc32(std::uint32_t crc, const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    crc = ~crc;
    for (std::size_t i = 0; i < bytes; ++i) crc = crc32_table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}
inline std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0) {
    return crc32(crc, bytes.data(), bytes.size());
}

}  // namespace descent::detail
