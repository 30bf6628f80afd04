// libFuzzer harness of the CSV reader (data/csv.hpp).
//
// The input's first 3 bytes choose the options, so that the fuzzer explores
// them with the text: byte 0 the label column (-4 to 3), byte 1 the header
// mode, the scalar type and whether classes are checked, byte 2 the
// delimiter. The rest is the file, read with read_csv.
//
// Promised: a data_error, or a Dataset that keeps read_csv's contract (D x N
// finite features, N labels in range); never another exception, a crash, a
// leak or a hang.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <descent/data/csv.hpp>
#include <string>

#include "fuzz_support.hpp"

namespace {

template <class Scalar>
void read(const std::string& path, const descent::CsvOptions& options) {
    try {
        const auto set = descent::read_csv<Scalar>(path, options);
        DESCENT_FUZZ_CHECK(set.x.cols() == static_cast<Eigen::Index>(set.y.size()));
        DESCENT_FUZZ_CHECK(set.x.cols() > 0 && set.x.rows() > 0);
        DESCENT_FUZZ_CHECK(set.x.allFinite());
        const int limit = options.classes.value_or(std::numeric_limits<int>::max());
        DESCENT_FUZZ_CHECK(std::ranges::all_of(set.y, [&](int y) { return y >= 0 && y < limit; }));
    } catch (const descent::data_error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static descent::fuzz::MemoryFile file;
    if (size < 3) return 0;
    descent::CsvOptions options;
    options.label_column = static_cast<int>(data[0] % 8) - 4;
    options.header = static_cast<descent::CsvOptions::Header>(data[1] % 3);
    if (data[1] & 0x10) options.classes = 1 + (data[1] >> 5);  // 1 to 8
    constexpr char delimiters[] = {',', ';', '\t', ' '};
    options.delimiter = delimiters[data[2] % 4];
    const std::string& path = file.hold(descent::fuzz::as_text(data + 3, size - 3));
    if (data[1] & 0x08)
        read<double>(path, options);
    else
        read<float>(path, options);
    return 0;
}
