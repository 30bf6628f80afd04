// libFuzzer harness of the CSV reader (data/csv.hpp).
//
// The input's first 3 bytes choose the options, so that the fuzzer explores them
// with the text; the rest is the file, read with read_csv.
//   byte 0: the target column, index (bits 0-2) -4 to 3, or by name (bit 3) "y",
//           "a", "b" or "c d" (bits 4-5); a second real target, column -1 (bit 6);
//           column 1 ignored (bit 7).
//   byte 1: the target (bits 0-1: labels, real, none, labels); the header (bits 2-3:
//           autodetect, present, absent, autodetect); double, not float (bit 4);
//           labels checked against 1, 3, 5 or 7 classes (bit 5, count in bits 6-7).
//   byte 2: the delimiter (bits 0-1: ',', ';', '\t', ' '); the quote '\'' not '"'
//           (bit 2); skip_rows 0 to 7 (bits 3-5); the file gzip-compressed (bit 6).
//
// Promised: a data_error, or a Dataset that keeps read_csv's contract (D x N finite
// features, N labels in range or K x N finite targets, names that fit, nothing for a
// features-only file), and that reads back the same, bit for bit, when written out
// again with every field quoted; never another exception (these options are all
// valid, so not even an argument_error), a crash, a leak or a hang.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <descent/data/csv.hpp>
#include <limits>
#include <string>
#include <utility>

#include "fuzz_support.hpp"

namespace {

using Target = descent::CsvOptions::Target;

// The data set as CSV: targets (or the label) first, then the features, every field
// quoted, each number in the shortest form that reads back exactly.
template <class Scalar>
std::string written(const descent::Dataset<Scalar>& set, char quote) {
    std::string out;
    char number[64];
    auto put = [&](auto value, bool first) {
        if (!first) out += ',';
        const auto end = std::to_chars(number, number + sizeof number, value).ptr;
        out += quote;
        out.append(number, end);
        out += quote;
    };
    for (Eigen::Index t = 0; t < set.size(); ++t) {
        bool first = true;
        if (set.has_labels()) put(set.y[static_cast<std::size_t>(t)], std::exchange(first, false));
        for (Eigen::Index k = 0; k < set.targets.rows(); ++k)
            put(set.targets(k, t), std::exchange(first, false));
        for (Eigen::Index i = 0; i < set.x.rows(); ++i) put(set.x(i, t), std::exchange(first, false));
        out += '\n';
    }
    return out;
}

template <class Scalar>
bool same(const descent::Dataset<Scalar>& a, const descent::Dataset<Scalar>& b) {
    auto equal = [](const auto& p, const auto& q) {
        return p.rows() == q.rows() && p.cols() == q.cols() && (p.array() == q.array()).all();
    };
    return equal(a.x, b.x) && a.y == b.y && equal(a.targets, b.targets);
}

template <class Scalar>
void read(const std::string& path, const descent::CsvOptions& options) {
    descent::Dataset<Scalar> set;
    try {
        set = descent::read_csv<Scalar>(path, options);
    } catch (const descent::data_error&) {
        return;
    }
    const Eigen::Index n = set.size();
    DESCENT_FUZZ_CHECK(n > 0);
    DESCENT_FUZZ_CHECK(set.x.allFinite());
    set.check_consistent("fuzz_csv");  // throws (and so fails) when it does not fit
    const auto k = static_cast<Eigen::Index>(options.target_columns.size());
    if (options.target == Target::labels) {
        DESCENT_FUZZ_CHECK(static_cast<Eigen::Index>(set.y.size()) == n && !set.has_targets());
        const int limit = options.classes.value_or(std::numeric_limits<int>::max());
        DESCENT_FUZZ_CHECK(std::ranges::all_of(set.y, [&](int y) { return y >= 0 && y < limit; }));
        DESCENT_FUZZ_CHECK(set.target_names.empty() || set.target_names.size() == 1);
    } else if (options.target == Target::real) {
        DESCENT_FUZZ_CHECK(set.y.empty() && set.targets.rows() == k && set.targets.cols() == n);
        DESCENT_FUZZ_CHECK(set.targets.allFinite());
        DESCENT_FUZZ_CHECK(set.target_names.empty() ||
                           static_cast<Eigen::Index>(set.target_names.size()) == k);
    } else {
        DESCENT_FUZZ_CHECK(set.y.empty() && set.targets.size() == 0 && set.target_names.empty());
        DESCENT_FUZZ_CHECK(set.features() > 0);
    }
    DESCENT_FUZZ_CHECK(set.feature_names.empty() ||
                       static_cast<Eigen::Index>(set.feature_names.size()) == set.features());
    DESCENT_FUZZ_CHECK(set.feature_names.empty() == set.target_names.empty() ||
                       options.target == Target::none || set.features() == 0);

    // Written out quoted and read back: the quoted path gives what the file gave.
    static descent::fuzz::MemoryFile again;
    descent::CsvOptions plain;
    plain.target = options.target;
    plain.header = descent::CsvOptions::Header::absent;
    plain.target_columns.clear();
    for (int c = 0; c < (options.target == Target::labels ? 1 : static_cast<int>(k)); ++c)
        plain.target_columns.push_back(c);
    if (options.target == Target::none) plain.target_columns = {0};
    plain.quote = options.quote;
    DESCENT_FUZZ_CHECK(same(set, descent::read_csv<Scalar>(again.hold(written(set, options.quote)), plain)));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static descent::fuzz::MemoryFile file;
    if (size < 3) return 0;
    descent::CsvOptions options;
    constexpr Target targets[] = {Target::labels, Target::real, Target::none, Target::labels};
    options.target = targets[data[1] & 3];
    constexpr const char* names[] = {"y", "a", "b", "c d"};
    if (data[0] & 0x08)
        options.target_columns = {names[(data[0] >> 4) & 3]};
    else
        options.target_columns = {static_cast<int>(data[0] & 7) - 4};
    if ((data[0] & 0x40) && options.target == Target::real) options.target_columns.push_back(-1);
    if (data[0] & 0x80) options.ignore_columns = {1};
    options.header = static_cast<descent::CsvOptions::Header>(((data[1] >> 2) & 3) % 3);
    if ((data[1] & 0x20) && options.target == Target::labels) options.classes = 1 + 2 * (data[1] >> 6);
    constexpr char delimiters[] = {',', ';', '\t', ' '};
    options.delimiter = delimiters[data[2] & 3];
    options.quote = (data[2] & 0x04) ? '\'' : '"';
    options.skip_rows = (data[2] >> 3) & 7;
    const auto text = descent::fuzz::as_text(data + 3, size - 3);
    const std::string& path = file.hold((data[2] & 0x40) ? descent::fuzz::gzip(text) : std::string(text));
    if (data[1] & 0x10)
        read<double>(path, options);
    else
        read<float>(path, options);
    return 0;
}
