#pragma once
// Labelled data from a CSV file: one row per sample, one column holding the
// label (an integer class in [0, C)), every other column a feature.
//
//   auto iris = descent::read_csv<double>("iris.csv", {.label_column = -1, .classes = 3});
//
// Numbers are parsed strictly, with std::from_chars: a field is a number in
// full or it is an error, never a silent 0 or a prefix ("1.5kg"). Every error
// names the file and the line.
#include <Eigen/Core>
#include <charconv>
#include <cmath>
#include <concepts>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../detail/file.hpp"
#include "../error.hpp"
#include "dataset.hpp"

namespace descent {

struct CsvOptions {
    // The column of the labels, from 0; a negative value counts from the end (-1: the last).
    int label_column = 0;
    // Whether the first line names the columns. autodetect: it does when one of
    // its fields is not a number (a header of numbers needs `present`).
    enum class Header { autodetect, present, absent } header = Header::autodetect;
    // When given, every label must be in [0, classes).
    std::optional<int> classes = std::nullopt;
    char delimiter = ',';
};

namespace detail {

inline std::string_view trim(std::string_view field) {
    while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
    while (!field.empty() && (field.back() == ' ' || field.back() == '\t')) field.remove_suffix(1);
    return field;
}

inline void split_fields(std::string_view line, char delimiter, std::vector<std::string_view>& fields) {
    fields.clear();
    for (;;) {
        const auto end = line.find(delimiter);
        fields.push_back(trim(line.substr(0, end)));
        if (end == std::string_view::npos) return;
        line.remove_prefix(end + 1);
    }
}

// The whole field as a T, or nothing (from_chars alone accepts a prefix).
template <class T>
std::optional<T> parse_whole(std::string_view field, std::errc& error) {
    T value{};
    const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
    error = ec;
    if (ec != std::errc{} || end != field.data() + field.size() || field.empty()) return std::nullopt;
    return value;
}

// The CSV parser proper, on text already in memory; `name` is the file's name for messages.
template <std::floating_point Scalar>
Dataset<Scalar> parse_csv(std::string_view text, const std::string& name, const CsvOptions& options) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a UTF-8 byte order mark
    auto at = [&](std::size_t line) { return " at line " + std::to_string(line) + " of " + name; };

    std::vector<std::string_view> fields;
    std::vector<Scalar> features;  // sample after sample: the column-major layout of D x N
    std::vector<int> labels;
    std::size_t columns = 0, label = 0, line_number = 0, first_line = 0, blank_line = 0;

    while (!text.empty()) {
        const auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        ++line_number;
        if (trim(line).empty()) {  // blank lines are allowed at the end only
            if (blank_line == 0) blank_line = line_number;
            continue;
        }
        if (blank_line != 0)
            throw data_error("line " + std::to_string(blank_line) + " of " + name + " is blank");
        split_fields(line, options.delimiter, fields);

        if (first_line == 0) {
            first_line = line_number;
            columns = fields.size();
            const int signed_columns = static_cast<int>(columns);
            const int column =
                options.label_column < 0 ? signed_columns + options.label_column : options.label_column;
            if (column < 0 || column >= signed_columns)
                throw data_error("label column " + std::to_string(options.label_column) + " is outside the " +
                                 std::to_string(columns) + " fields" + at(line_number));
            label = static_cast<std::size_t>(column);
            if (columns < 2)
                throw data_error("only 1 field" + at(line_number) +
                                 ": a label and at least one feature are needed");
            bool header = options.header == CsvOptions::Header::present;
            if (options.header == CsvOptions::Header::autodetect) {
                std::errc ignored;
                for (const auto field : fields) header = header || !parse_whole<Scalar>(field, ignored);
            }
            if (header) continue;
        }

        if (fields.size() != columns)
            throw data_error("line " + std::to_string(line_number) + " of " + name + " has " +
                             std::to_string(fields.size()) + " fields, expected " + std::to_string(columns) +
                             " like line " + std::to_string(first_line));
        for (std::size_t f = 0; f < columns; ++f) {
            const std::string_view field = fields[f];
            std::errc error{};
            if (f == label) {
                const auto y = parse_whole<int>(field, error);
                if (!y)
                    throw data_error("label \"" + std::string(field) + "\"" + at(line_number) +
                                     " is not an integer");
                if (options.classes && (*y < 0 || *y >= *options.classes))
                    throw data_error("label " + std::to_string(*y) + at(line_number) + " is outside [0, " +
                                     std::to_string(*options.classes) + ")");
                if (*y < 0)
                    throw data_error("label " + std::to_string(*y) + at(line_number) +
                                     " is negative; labels are classes 0, 1, 2, ...");
                labels.push_back(*y);
                continue;
            }
            const std::string where = "field " + std::to_string(f + 1) + at(line_number);
            if (field.empty()) throw data_error(where + " is empty, not a number");
            const auto value = parse_whole<Scalar>(field, error);
            if (!value) {
                if (error == std::errc::result_out_of_range)
                    throw data_error(where + " is \"" + std::string(field) + "\", out of the range of " +
                                     (sizeof(Scalar) == sizeof(float) ? "float" : "double"));
                throw data_error(where + " is \"" + std::string(field) + "\", not a number");
            }
            if (!std::isfinite(*value))
                throw data_error(where + " is \"" + std::string(field) + "\", not a finite number");
            features.push_back(*value);
        }
    }
    if (line_number == 0 || first_line == 0) throw data_error(name + " is empty");
    if (labels.empty()) throw data_error(name + " has a header line but no data");

    const auto n = static_cast<Eigen::Index>(labels.size());
    const auto d = static_cast<Eigen::Index>(columns - 1);
    return {Eigen::Map<const typename Dataset<Scalar>::Matrix>(features.data(), d, n), std::move(labels)};
}

}  // namespace detail

// The samples of a CSV file, one per row, as a D x N Dataset (D = columns - 1).
// Blank lines are allowed at the end only; a "\r\n" line end and a UTF-8 byte
// order mark are accepted; fields may be padded with spaces or tabs.
// throws: io_error (missing, unreadable); data_error naming the file and the
//         line for an empty file, a header without data, a row with another
//         number of fields than the first, a field that is not a finite number,
//         a label that is not an integer or is outside [0, classes).
template <std::floating_point Scalar = float>
Dataset<Scalar> read_csv(const std::filesystem::path& path, const CsvOptions& options = {}) {
    return detail::parse_csv<Scalar>(detail::read_file(path), path.string(), options);
}

}  // namespace descent
