#pragma once
// The exceptions descent throws. Every message says what was expected, what
// was found and where, so that a user can fix the input without a debugger.
#include <stdexcept>
#include <string>

namespace descent {

// Base of everything descent throws on purpose.
class error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Sizes that do not fit: a wrong input width, layers that do not chain.
class shape_error : public error {
public:
    using error::error;
};

// A label outside [0, C).
class label_error : public error {
public:
    using error::error;
};

// NaN or infinity where a finite number is required.
class non_finite_error : public error {
public:
    using error::error;
};

// A hyperparameter or argument out of its range: a negative learning rate,
// a zero batch size, an empty batch.
class argument_error : public error {
public:
    using error::error;
};

}  // namespace descent
