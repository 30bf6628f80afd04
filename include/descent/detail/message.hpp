#pragma once
// Messages (of errors, warnings, mismatches) joined from their pieces by one function.
//
// Written as a chain, "a" + std::to_string(n) + "b" + ..., a message compiles to a copy of
// std::string's code for every link, in every function that can throw it and in every
// instantiation of that function: C++20 makes std::string constexpr, so all of that code is
// inline and optimised again in each translation unit. Such cold code was a fifth of what the
// compiler optimised for the README's example. Joined here, a message costs its caller an
// array of pieces and one call.
#include <charconv>
#include <concepts>
#include <initializer_list>
#include <string>
#include <string_view>

namespace descent::detail {

// A piece of a message: text, or an integer written in decimal as std::to_string writes it.
// Holds no copy of the text: it lives for the full expression that joins it.
class Piece {
public:
    Piece(std::string_view text) : text_(text) {}    // NOLINT: implicit
    Piece(const char* text) : text_(text) {}         // NOLINT: implicit
    Piece(const std::string& text) : text_(text) {}  // NOLINT: implicit
    template <std::signed_integral I>
    requires(!std::same_as<I, char>) Piece(I value)
        : kind_(Kind::signed_integer), signed_(value) {}  // NOLINT
    template <std::unsigned_integral I>
    requires(!std::same_as<I, bool>) Piece(I value)
        : kind_(Kind::unsigned_integer), unsigned_(value) {}  // NOLINT

    void append_to(std::string& out) const {
        char digits[24];
        switch (kind_) {
            case Kind::text:
                out.append(text_);
                return;
            case Kind::signed_integer:
                out.append(digits, std::to_chars(digits, digits + sizeof digits, signed_).ptr);
                return;
            case Kind::unsigned_integer:
                out.append(digits, std::to_chars(digits, digits + sizeof digits, unsigned_).ptr);
                return;
        }
    }

private:
    enum class Kind : unsigned char { text, signed_integer, unsigned_integer };
    Kind kind_ = Kind::text;
    std::string_view text_;
    long long signed_ = 0;
    unsigned long long unsigned_ = 0;
};

// Adds the pieces to the end of out.
inline void append(std::string& out, std::initializer_list<Piece> pieces) {
    for (const Piece& piece : pieces) piece.append_to(out);
}

// The pieces one after the other: join({"layer ", k, " takes ", n, " inputs"}).
inline std::string join(std::initializer_list<Piece> pieces) {
    std::string out;
    append(out, pieces);
    return out;
}

}  // namespace descent::detail
