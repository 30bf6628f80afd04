#pragma once
// Data from a CSV file as people have it: one row per sample; one column of
// integer class labels, or one or several columns of real-valued targets, or no
// target at all (samples to predict); every other column a feature.
//
//   using descent::CsvOptions;
//   // scikit-learn's iris.csv: a first line of counts and class names, the label last
//   auto iris = descent::read_csv<double>("iris.csv", {.target_columns = {-1}, .classes = 3});
//   // a header naming the columns, two lines in: the real-valued target "MEDV"
//   auto houses = descent::read_csv<double>(
//       "boston_house_prices.csv",
//       {.target = CsvOptions::Target::real, .target_columns = {"MEDV"}, .skip_rows = 1});
//   houses.targets;        // 1 x 506
//   houses.feature_names;  // CRIM, ZN, ...
//   // whitespace-separated, gzip-compressed, the features alone
//   auto x = descent::read_csv<double>("diabetes_data_raw.csv.gz",
//                                      {.target = CsvOptions::Target::none, .delimiter = ' '});
//
// The format is RFC 4180's: fields separated by a delimiter, a field in quotes
// may hold delimiters, line ends and quotes (written twice: "a ""b"""); "\r\n"
// line ends and a UTF-8 byte order mark are accepted; fields may be padded with
// spaces or tabs. A header line may have any number of fields (scikit-learn's
// files start with "150,4,setosa,versicolor,virginica"): the first data line sets
// the count every other must have, and the header's fields name the columns when
// it has that count and, autodetected, holds no number. A file ending in ".gz" (any gzip stream, in fact) is
// inflated on the fly.
//
// Numbers are parsed strictly, with std::from_chars: a field is a number in full
// or it is an error, never a silent 0 or a prefix ("1.5kg"). Every error names
// the file, the line and the field, and says what was expected and what was found.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <concepts>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "../detail/csv_scanner.hpp"
#include "../detail/gzip_reader.hpp"
#include "../error.hpp"
#include "dataset.hpp"

namespace descent {

// A column of a CSV file: by its index from 0 (a negative index counts from the end:
// -1 is the last), or by its name in the header line. Converts implicitly from either,
// so that a list of columns reads {-1} or {"species"}.
class CsvColumn {
public:
    CsvColumn(int index) : index_(index) {}
    CsvColumn(std::string name) : name_(std::move(name)) {}
    CsvColumn(const char* name) : name_(name) {}

    bool by_name() const { return name_.has_value(); }
    int index() const { return index_; }
    const std::string& name() const { return *name_; }
    // As a message shows it: -1, or "species" in quotes.
    std::string shown() const { return by_name() ? "\"" + *name_ + "\"" : std::to_string(index_); }

private:
    int index_ = 0;
    std::optional<std::string> name_;
};

struct CsvOptions {
    // What the target columns hold: one column of integer class labels 0, 1, ..., C−1
    // (into Dataset::y); real values, one column or several (Dataset::targets, a row
    // each); or nothing, every column but the ignored ones a feature: samples to predict.
    enum class Target { labels, real, none } target = Target::labels;
    // The target columns, by index or name: {0} (the default), {-1}, {"species"}, {"x", "y"}.
    // Labels take exactly one; ignored for Target::none.
    std::vector<CsvColumn> target_columns = {0};
    // When given, every label must be in [0, classes) (labels only).
    std::optional<int> classes = std::nullopt;
    // Columns that are neither a feature nor a target (an identifier, a date).
    std::vector<CsvColumn> ignore_columns = {};
    // Lines dropped before anything is read, as raw lines (quotes are not looked at):
    // a title, a line of counts before the header.
    std::size_t skip_rows = 0;
    // Whether the first line after skip_rows is a header. autodetect: it is when one of
    // its fields is not a number, and it names the columns when none is (a header of
    // numbers, or names such as "2019", needs `present`).
    enum class Header { autodetect, present, absent } header = Header::autodetect;
    // The field separator. ' ' stands for any run of spaces and tabs, with none
    // leading or trailing (whitespace-separated files: "59 2  32.1\t101").
    char delimiter = ',';
    // Encloses a field that holds a delimiter, a line end or a quote (doubled).
    char quote = '"';
};

namespace detail {

// Options that are wrong whatever the file.
inline void check_csv_options(const CsvOptions& options) {
    using Target = CsvOptions::Target;
    const auto columns = options.target_columns.size();
    if (options.target == Target::labels && columns != 1)
        throw argument_error("read_csv: labels come from one column, got " + std::to_string(columns) +
                             " in CsvOptions::target_columns (several columns are real-valued targets: "
                             "CsvOptions::Target::real)");
    if (options.target == Target::real && columns == 0)
        throw argument_error(
            "read_csv: real-valued targets need at least one column in "
            "CsvOptions::target_columns (none: CsvOptions::Target::none)");
    if (options.classes && options.target != Target::labels)
        throw argument_error("read_csv: CsvOptions::classes applies to labels only");
    if (options.classes && *options.classes < 1)
        throw argument_error("read_csv: CsvOptions::classes must be at least 1, got " +
                             std::to_string(*options.classes));
    for (const char c : {options.delimiter, options.quote})
        if (c == '\n' || c == '\r')
            throw argument_error("read_csv: a line end cannot be the delimiter or the quote");
    if (options.quote == options.delimiter || is_blank(options.quote))
        throw argument_error("read_csv: the quote must differ from the delimiter and from spaces and tabs");
}

// Which column is what, fixed at the first data line.
struct CsvLayout {
    static constexpr int feature = -1;
    static constexpr int ignored = -2;
    std::vector<int> role;  // per column: feature, ignored, or the target's position k
    Eigen::Index features = 0;
    Eigen::Index targets = 0;
    std::vector<std::string> feature_names, target_names;
};

struct CsvHeader {
    std::vector<std::string> names;
    std::size_t line = 0;  // 0: none
    bool numbers = false;  // autodetected with numbers among its fields: counts, not names

    // Whether its fields name the columns of records of `count` fields.
    bool names_columns(std::size_t count) const { return line != 0 && !numbers && names.size() == count; }
};

// The column that `column` stands for in records of `count` fields.
// throws: data_error (outside the fields, a name not in the header or no usable header).
inline std::size_t resolve_column(const CsvColumn& column, const char* kind, std::size_t count,
                                  std::size_t data_line, const CsvHeader& header, const std::string& name) {
    const std::string what = std::string(kind) + " column " + column.shown();
    if (!column.by_name()) {
        const long long i =
            column.index() < 0 ? static_cast<long long>(count) + column.index() : column.index();
        if (i < 0 || i >= static_cast<long long>(count))
            throw data_error(what + " is outside the " + std::to_string(count) + " fields at line " +
                             std::to_string(data_line) + " of " + name);
        return static_cast<std::size_t>(i);
    }
    if (header.line == 0)
        throw data_error(what + " is given by name, but " + name + " has no header line naming its columns " +
                         "(line " + std::to_string(data_line) + " is data)");
    if (header.numbers)
        throw data_error(what + " is given by name, but the header (line " + std::to_string(header.line) +
                         " of " + name + ") holds numbers, not only names (CsvOptions::header = present " +
                         "takes it as names)");
    if (header.names.size() != count)
        throw data_error(what + " is given by name, but the header (line " + std::to_string(header.line) +
                         " of " + name + ") has " + std::to_string(header.names.size()) + " names for the " +
                         std::to_string(count) + " fields of line " + std::to_string(data_line));
    const auto& names = header.names;
    const auto found = std::find(names.begin(), names.end(), column.name());
    if (found == names.end()) {
        std::string list;
        for (std::size_t i = 0; i < names.size() && i < 30; ++i) list += (i ? ", " : "") + shown(names[i]);
        if (names.size() > 30) list += ", ... (" + std::to_string(names.size()) + " in all)";
        throw data_error(what + " is not in the header (line " + std::to_string(header.line) + " of " + name +
                         "), which names " + list);
    }
    const auto again = std::find(found + 1, names.end(), column.name());
    if (again != names.end())
        throw data_error(what + " names both field " + std::to_string(found - names.begin() + 1) +
                         " and field " + std::to_string(again - names.begin() + 1) + " of the header (line " +
                         std::to_string(header.line) + " of " + name + ")");
    return static_cast<std::size_t>(found - names.begin());
}

inline CsvLayout csv_layout(const CsvOptions& options, std::size_t count, std::size_t data_line,
                            const CsvHeader& header, const std::string& name) {
    using Target = CsvOptions::Target;
    CsvLayout layout;
    layout.role.assign(count, CsvLayout::feature);
    std::vector<std::string> given(count);  // how each column was named in the options, for a clash
    auto claim = [&](const CsvColumn& column, const char* kind, int role) {
        const std::size_t c = resolve_column(column, kind, count, data_line, header, name);
        const std::string as = std::string(kind) + " column " + column.shown();
        if (!given[c].empty())
            throw data_error("field " + std::to_string(c + 1) + " of " + name + " is chosen twice: as " +
                             given[c] + " and as " + as);
        given[c] = as;
        layout.role[c] = role;
    };
    if (options.target != Target::none) {
        const char* kind = options.target == Target::labels ? "label" : "target";
        for (std::size_t k = 0; k < options.target_columns.size(); ++k)
            claim(options.target_columns[k], kind, static_cast<int>(k));
        layout.targets = static_cast<Eigen::Index>(options.target_columns.size());
    }
    for (const auto& column : options.ignore_columns) claim(column, "ignored", CsvLayout::ignored);
    const bool named = header.names_columns(count);
    if (named) layout.target_names.resize(static_cast<std::size_t>(layout.targets));
    for (std::size_t c = 0; c < count; ++c) {
        if (layout.role[c] == CsvLayout::feature) {
            ++layout.features;
            if (named) layout.feature_names.push_back(header.names[c]);
        } else if (layout.role[c] >= 0 && named) {
            layout.target_names[static_cast<std::size_t>(layout.role[c])] = header.names[c];
        }
    }
    return layout;
}

// The CSV parser proper, on text already in memory; `name` is the file's name for messages.
template <std::floating_point Scalar>
Dataset<Scalar> parse_csv(std::string_view text, const std::string& name, const CsvOptions& options) {
    using Target = CsvOptions::Target;
    check_csv_options(options);
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte order mark
    CsvScanner scan(text, options.delimiter, options.quote, name);
    for (std::size_t k = 0; k < options.skip_rows; ++k)
        if (!scan.skip_line())
            throw data_error(name + " has " + std::to_string(k) + " lines, fewer than the " +
                             std::to_string(options.skip_rows) + " to skip (CsvOptions::skip_rows)");

    std::vector<CsvField> fields;
    CsvHeader header;
    CsvLayout layout;
    std::vector<Scalar> features, targets;  // sample after sample: the column-major layout of D x N, K x N
    std::vector<int> labels;
    std::size_t columns = 0, first_line = 0, blank_line = 0, samples = 0;
    bool header_pending = options.header != CsvOptions::Header::absent;
    const char* const scalar_name = sizeof(Scalar) == sizeof(float) ? "float" : "double";

    // "field 3 ("petal") at line 7 of f.csv"
    auto where = [&](std::size_t c, std::size_t line) {
        std::string at = "field " + std::to_string(c + 1);
        if (header.names_columns(columns)) at += " (" + shown(header.names[c]) + ")";
        return at + " at line " + std::to_string(line) + " of " + name;
    };
    // A finite number, or a data_error saying what the field holds instead.
    auto number = [&](const CsvField& field, std::size_t c) {
        const std::string_view value = trim(field.text);
        std::errc error{};
        if (!field.escaped) {
            const auto x = parse_whole<Scalar>(value, error);
            if (x && std::isfinite(*x)) return *x;
            if (x) throw data_error(where(c, field.line) + " is " + shown(value) + ", not a finite number");
            if (value.empty()) throw data_error(where(c, field.line) + " is empty, not a number");
            if (error == std::errc::result_out_of_range)
                throw data_error(where(c, field.line) + " is " + shown(value) + ", out of the range of " +
                                 scalar_name);
        }
        // A first data line of names only, after a header: a header of two lines.
        std::string hint;
        std::errc ignored;
        if (field.line == first_line && header.line != 0 &&
            std::none_of(fields.begin(), fields.end(), [&](const CsvField& f) {
                return parse_whole<double>(trim(f.text), ignored).has_value();
            }))
            hint = " (a second header line? CsvOptions::skip_rows drops lines before the header)";
        throw data_error(where(c, field.line) + " is " + shown(field.value(options.quote)) +
                         ", not a number" + hint);
    };
    auto label = [&](const CsvField& field, std::size_t c) {
        std::errc error{};
        const std::string_view value = trim(field.text);
        const auto y = field.escaped ? std::nullopt : parse_whole<int>(value, error);
        if (y && *y >= 0 && (!options.classes || *y < *options.classes)) return *y;
        const std::string in = " in " + where(c, field.line);
        if (!y) {
            const auto real = field.escaped ? std::nullopt : parse_whole<double>(value, error);
            throw data_error("label " + shown(field.value(options.quote)) + in + " is not an integer" +
                             (real ? " (real-valued targets: CsvOptions::Target::real)"
                                   : " (classes are numbered 0, 1, 2, ...)"));
        }
        if (options.classes)
            throw data_error("label " + std::to_string(*y) + in + " is outside [0, " +
                             std::to_string(*options.classes) + ")");
        throw data_error("label " + std::to_string(*y) + in +
                         " is negative; labels are classes 0, 1, 2, ...");
    };

    while (!scan.done()) {
        const std::size_t line = scan.line(), start = scan.position();
        scan.next(fields);
        if (fields.empty()) {  // blank lines are allowed at the end only
            if (blank_line == 0) blank_line = line;
            continue;
        }
        if (blank_line != 0)
            throw data_error("line " + std::to_string(blank_line) + " of " + name + " is blank");

        if (header_pending) {
            header_pending = false;
            std::errc ignored;
            std::size_t numbers = 0;
            for (const auto& field : fields)
                numbers += !field.escaped && parse_whole<double>(trim(field.text), ignored) ? 1 : 0;
            if (options.header == CsvOptions::Header::present || numbers < fields.size()) {
                header.line = line;
                // "150,4,setosa,versicolor,virginica" is a header, but its fields are no column names.
                header.numbers = options.header == CsvOptions::Header::autodetect && numbers > 0;
                for (const auto& field : fields) header.names.push_back(field.value(options.quote));
                continue;
            }
        }
        if (columns == 0) {
            columns = fields.size();
            first_line = line;
            layout = csv_layout(options, columns, line, header, name);
            // One allocation for a file of lines like this one.
            const std::size_t bytes = std::max<std::size_t>(1, scan.position() - start);
            const std::size_t lines = 1 + (text.size() - scan.position()) / bytes;
            features.reserve(lines * static_cast<std::size_t>(layout.features));
            if (options.target == Target::labels) labels.reserve(lines);
            if (options.target == Target::real)
                targets.reserve(lines * static_cast<std::size_t>(layout.targets));
        }
        if (fields.size() != columns)
            throw data_error("line " + std::to_string(line) + " of " + name + " has " +
                             std::to_string(fields.size()) + " fields, expected " + std::to_string(columns) +
                             " like line " + std::to_string(first_line));
        const std::size_t base = targets.size();
        if (options.target == Target::real) targets.resize(base + static_cast<std::size_t>(layout.targets));
        for (std::size_t c = 0; c < columns; ++c) {
            const int role = layout.role[c];
            if (role == CsvLayout::feature) {
                features.push_back(number(fields[c], c));
            } else if (role >= 0) {
                if (options.target == Target::labels)
                    labels.push_back(label(fields[c], c));
                else
                    targets[base + static_cast<std::size_t>(role)] = number(fields[c], c);
            }
        }
        ++samples;
    }
    if (samples == 0) {
        if (header.line != 0) throw data_error(name + " has a header line but no data");
        if (options.skip_rows > 0)
            throw data_error(name + " has no data after the " + std::to_string(options.skip_rows) +
                             " lines skipped (CsvOptions::skip_rows)");
        throw data_error(name + " is empty");
    }

    using Matrix = typename Dataset<Scalar>::Matrix;
    const auto n = static_cast<Eigen::Index>(samples);
    Dataset<Scalar> data{Eigen::Map<const Matrix>(features.data(), layout.features, n), std::move(labels)};
    if (options.target == Target::real)
        data.targets = Eigen::Map<const Matrix>(targets.data(), layout.targets, n);
    data.feature_names = std::move(layout.feature_names);
    data.target_names = std::move(layout.target_names);
    return data;
}

// The bytes of a file, inflated when it is gzip-compressed.
inline std::string read_text(const std::filesystem::path& path) {
    GzipReader in(path);
    const auto hint = static_cast<std::size_t>(in.size_hint());
    std::string text;
    std::size_t done = 0;
    // A plain file in one read of its size (and one more byte, to see the end); a gzip
    // stream in chunks that double, no larger than 64 MiB of zeros written ahead.
    for (std::size_t chunk = std::clamp<std::size_t>(hint + 1, 1 << 12, 1 << 26);;
         chunk = std::min<std::size_t>(2 * chunk, 1 << 26)) {
        text.resize(done + chunk);
        const std::size_t got = in.read(text.data() + done, chunk);
        done += got;
        if (got < chunk) break;
    }
    text.resize(done);
    return text;
}

}  // namespace detail

// The samples of a CSV file, one per row, as a Dataset: x is D x N (D the columns that
// are neither a target nor ignored, in file order), y the N labels or else targets the K x N
// real-valued targets (in the order of target_columns), the names from a header line
// whose field count is the data's. Blank lines are allowed at the end only.
// requires: options that fit together (labels take one column; classes ≥ 1, for labels;
//           delimiter and quote distinct, neither a line end).
// throws: argument_error (options); io_error (missing, unreadable); data_error naming
//         the file, the line and the field for a file with no data, a row with another
//         number of fields than the first data row, a quote never closed, a field that
//         is not a finite number, a label that is not an integer or is outside
//         [0, classes), a target column outside the fields or a name not in the header,
//         a column chosen twice, damaged gzip data.
template <std::floating_point Scalar = float>
Dataset<Scalar> read_csv(const std::filesystem::path& path, const CsvOptions& options = {}) {
    detail::check_csv_options(options);
    return detail::parse_csv<Scalar>(detail::read_text(path), path.string(), options);
}

}  // namespace descent
