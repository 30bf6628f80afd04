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

// Training diverged: the objective, the gradient or an update of θ came out NaN or
// infinite. The step that found it left θ and the optimizer's state as they were,
// so the network keeps its last finite parameters; fit's message names the epoch
// and the batch.
class divergence_error : public non_finite_error {
public:
    using non_finite_error::non_finite_error;
};

// A hyperparameter or argument out of its range: a negative learning rate,
// a zero batch size, an empty batch.
class argument_error : public error {
public:
    using error::error;
};

// The operating system refused a file: missing, unreadable, not writable, a
// directory where a file was expected. The message names the path and errno's text.
class io_error : public error {
public:
    using error::error;
};

// A data file (IDX, CSV) whose content breaks its format: a wrong magic number,
// a truncated payload, a ragged row, a label out of range. The message names
// the file and the place in it.
class data_error : public error {
public:
    using error::error;
};

// What load() found wrong with a model file (io/model_file.hpp). One class per
// cause, because each asks for a different fix: find the right file, retrain,
// upgrade descent, build the right network, pick the right scalar type.
class model_file_error : public error {
public:
    using error::error;
};

// Not a descent model file at all: the magic number is wrong.
class not_a_model_file_error : public model_file_error {
public:
    using model_file_error::model_file_error;
};

// A descent model file damaged after it was written: the checksum or the sizes
// do not add up (a truncated copy, a flipped bit, bytes appended).
class corrupt_model_file_error : public model_file_error {
public:
    using model_file_error::model_file_error;
};

// A model file in a newer format version than this descent reads.
class model_version_error : public model_file_error {
public:
    using model_file_error::model_file_error;
};

// A sound model file of another architecture than the network it is loaded into.
class architecture_mismatch_error : public model_file_error {
public:
    using model_file_error::model_file_error;
};

// A sound model file whose parameters are of another scalar type (float, double)
// than the network's.
class scalar_type_mismatch_error : public model_file_error {
public:
    using model_file_error::model_file_error;
};

// What reading a training checkpoint (io/checkpoint.hpp) found wrong. One class per
// cause, as for model files.
class checkpoint_error : public error {
public:
    using error::error;
};

// Not a descent checkpoint at all: the magic number is wrong.
class not_a_checkpoint_error : public checkpoint_error {
public:
    using checkpoint_error::checkpoint_error;
};

// A checkpoint damaged after it was written (truncated, a flipped bit, bytes appended)
// or sizes that do not add up.
class corrupt_checkpoint_error : public checkpoint_error {
public:
    using checkpoint_error::checkpoint_error;
};

// A checkpoint in a newer format version than this descent reads.
class checkpoint_version_error : public checkpoint_error {
public:
    using checkpoint_error::checkpoint_error;
};

// A sound checkpoint of another run: another architecture or scalar type, another
// optimizer or hyperparameters, other data or training options. Resuming it would
// not continue that run, so it is refused; the message names what differs.
class checkpoint_mismatch_error : public checkpoint_error {
public:
    using checkpoint_error::checkpoint_error;
};

// A failure of data-parallel training over MPI (distributed/): the ranks disagree (they were
// given different data or options), or another rank failed, as "rank R: <its message>".
class distributed_error : public error {
public:
    using error::error;
};

}  // namespace descent
