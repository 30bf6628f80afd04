#pragma once
// The records of CSV text (RFC 4180), field by field, for data/csv.hpp: fields
// separated by a delimiter (or, for ' ', by runs of spaces and tabs); a field in
// quotes may hold delimiters, line ends and quotes written twice; "\r\n" ends a
// line as "\n" does. Lines are counted, inside quoted fields too, so that every
// message can name the line a field starts on.
//
// One pass over the text, a character at a time: the quote is looked for only at
// the start of a field, so an unquoted numeric file costs one comparison with the
// delimiter and one with '\n' per byte.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../error.hpp"

namespace descent::detail {

inline bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

inline std::string_view trim(std::string_view field) {
    while (!field.empty() && is_blank(field.front())) field.remove_prefix(1);
    while (!field.empty() && is_blank(field.back())) field.remove_suffix(1);
    return field;
}

// A field as a message shows it: in quotes, control bytes escaped, a long one cut short.
inline std::string shown(std::string_view field) {
    constexpr std::size_t limit = 40;
    std::string out = "\"";
    for (std::size_t i = 0; i < field.size() && i < limit; ++i) {
        const auto c = static_cast<unsigned char>(field[i]);
        if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c < 0x20 || c == 0x7F) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02X", static_cast<unsigned>(c));
            out += hex;
        } else {
            out += static_cast<char>(c);
        }
    }
    if (field.size() > limit) out += "...";
    return out + "\"";
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

struct CsvField {
    std::string_view text;  // trimmed; a quoted field's content, with its quotes still doubled
    std::size_t line;       // the line it starts on
    bool quoted;
    bool escaped;  // holds a doubled quote: text is not the value

    // The value, quotes undoubled.
    std::string value(char quote) const {
        if (!escaped) return std::string(text);
        std::string out;
        for (std::size_t i = 0; i < text.size(); ++i) {
            out += text[i];
            if (text[i] == quote) ++i;  // the second of the pair
        }
        return out;
    }
};

// Splits CSV text into records of fields, quote-aware, counting lines for messages.
// A record ends at a line end outside quotes; a quoted field may span lines.
class CsvScanner {
public:
    CsvScanner(std::string_view text, char delimiter, char quote, const std::string& name)
        : text_(text), name_(name), delimiter_(delimiter), quote_(quote), blanks_(delimiter == ' ') {}

    bool done() const { return at_ == text_.size(); }
    std::size_t line() const { return line_; }    // the line the next record starts on
    std::size_t position() const { return at_; }  // the byte it starts at

    // Drops one line as it is; false when none is left.
    bool skip_line() {
        if (done()) return false;
        const auto end = text_.find('\n', at_);
        at_ = end == std::string_view::npos ? text_.size() : end + 1;
        ++line_;
        return true;
    }

    // The next record's fields; none for a blank line.
    // throws: data_error for a quote never closed, or text after a closing quote.
    void next(std::vector<CsvField>& fields) {
        fields.clear();
        if (blanks_) {
            whitespace_record(fields);
        } else {
            delimited_record(fields);
            if (fields.size() == 1 && !fields[0].quoted && fields[0].text.empty()) fields.clear();
        }
    }

private:
    char peek() const { return at_ < text_.size() ? text_[at_] : '\n'; }
    bool blank_here() const { return at_ < text_.size() && is_blank(text_[at_]) && text_[at_] != delimiter_; }

    // At a line end ("\n", "\r\n", or the end of the text, with or without a "\r"): consume it.
    bool end_of_line() {
        std::size_t k = at_;
        if (k < text_.size() && text_[k] == '\r') ++k;
        if (k == text_.size()) {
            at_ = k;
            return true;
        }
        if (text_[k] != '\n') return false;
        at_ = k + 1;
        ++line_;
        return true;
    }

    void delimited_record(std::vector<CsvField>& fields) {
        for (;;) {
            while (blank_here()) ++at_;
            const std::size_t line = line_;
            if (peek() == quote_) {
                fields.push_back(quoted(fields.size(), line));
                while (blank_here()) ++at_;
                if (at_ < text_.size() && text_[at_] == delimiter_) {
                    ++at_;
                    continue;
                }
                if (end_of_line()) return;
                after_quote(fields.size(), line);
            }
            // Unquoted: up to the delimiter or the line end; a quote inside is an ordinary character.
            const std::size_t begin = at_;
            while (at_ < text_.size() && text_[at_] != delimiter_ && text_[at_] != '\n') ++at_;
            std::string_view text = text_.substr(begin, at_ - begin);
            const bool more = at_ < text_.size() && text_[at_] == delimiter_;
            if (!more && !text.empty() && text.back() == '\r') text.remove_suffix(1);
            fields.push_back({trim(text), line, false, false});
            if (more) {
                ++at_;
                continue;
            }
            end_of_line();
            return;
        }
    }

    // Fields separated by runs of blanks; '\r' counts as one, so "\r\n" ends a line.
    void whitespace_record(std::vector<CsvField>& fields) {
        auto separator = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
        for (;;) {
            while (at_ < text_.size() && separator(text_[at_])) ++at_;
            if (at_ == text_.size()) return;
            if (text_[at_] == '\n') {
                ++at_;
                ++line_;
                return;
            }
            const std::size_t line = line_;
            if (text_[at_] == quote_) {
                fields.push_back(quoted(fields.size(), line));
                if (at_ < text_.size() && !separator(text_[at_]) && text_[at_] != '\n')
                    after_quote(fields.size(), line);
                continue;
            }
            const std::size_t begin = at_;
            while (at_ < text_.size() && !separator(text_[at_]) && text_[at_] != '\n') ++at_;
            fields.push_back({text_.substr(begin, at_ - begin), line, false, false});
        }
    }

    // A quoted field from its opening quote (at_) to just past its closing one.
    CsvField quoted(std::size_t index, std::size_t line) {
        const std::size_t begin = ++at_;
        bool escaped = false;
        for (;;) {
            const std::size_t close = text_.find(quote_, at_);
            if (close == std::string_view::npos)
                throw data_error(where(index, line) +
                                 " opens a quote that is never closed (a quote inside a " +
                                 "quoted field is written twice)");
            line_ += static_cast<std::size_t>(std::count(text_.begin() + static_cast<std::ptrdiff_t>(at_),
                                                         text_.begin() + static_cast<std::ptrdiff_t>(close),
                                                         '\n'));
            if (close + 1 < text_.size() && text_[close + 1] == quote_) {
                escaped = true;
                at_ = close + 2;
                continue;
            }
            at_ = close + 1;
            return {text_.substr(begin, close - begin), line, true, escaped};
        }
    }

    [[noreturn]] void after_quote(std::size_t count, std::size_t line) const {
        std::size_t end = at_;
        while (end < text_.size() && text_[end] != delimiter_ && text_[end] != '\n') ++end;
        throw data_error(where(count - 1, line) + " has " + shown(text_.substr(at_, end - at_)) +
                         " after its closing quote, expected a delimiter or the line end (a quote inside " +
                         "a quoted field is written twice)");
    }

    std::string where(std::size_t index, std::size_t line) const {
        return "field " + std::to_string(index + 1) + " at line " + std::to_string(line) + " of " + name_;
    }

    std::string_view text_;
    const std::string& name_;
    std::size_t at_ = 0;
    std::size_t line_ = 1;
    char delimiter_;
    char quote_;
    bool blanks_;
};

}  // namespace descent::detail
