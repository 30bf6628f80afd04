#pragma once
// Range checks for hyperparameters (learning rates, decay factors, patience),
// shared by the optimizers, the schedules and fit, so that every message has
// the same shape: "<where>: <what> must be <range>, got <value>".
#include <cmath>
#include <locale>
#include <sstream>
#include <string>

#include "../error.hpp"
#include "message.hpp"

namespace descent::detail {

// A value as a person would write it: 1e-09, not std::to_string's 0.000000;
// in the classic locale whatever the global one, so that 0.5 never prints as 0,5.
inline std::string number(double value) {
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out << value;
    return out.str();
}

[[noreturn]] inline void out_of_range(const char* where, const char* what, const char* range, double value) {
    throw argument_error(join({where, ": ", what, " must be ", range, ", got ", number(value)}));
}

// value > 0 and finite.
inline void require_positive(double value, const char* where, const char* what) {
    if (!(std::isfinite(value) && value > 0)) out_of_range(where, what, "positive and finite", value);
}

// value >= 0 and finite.
inline void require_non_negative(double value, const char* where, const char* what) {
    if (!(std::isfinite(value) && value >= 0)) out_of_range(where, what, "non-negative and finite", value);
}

// value in [0, 1): a decay rate such as a momentum β, for which 1 would never forget.
inline void require_unit_interval(double value, const char* where, const char* what) {
    if (!(value >= 0 && value < 1)) out_of_range(where, what, "in [0, 1)", value);
}

// An integer count of at least `least`.
inline void require_at_least(long long value, long long least, const char* where, const char* what) {
    if (value < least)
        throw argument_error(join({where, ": ", what, " must be at least ", least, ", got ", value}));
}

}  // namespace descent::detail
