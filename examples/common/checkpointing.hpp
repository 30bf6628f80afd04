#pragma once
// How the examples checkpoint a training run: into one file, after every epoch. The only place
// they name descent's checkpoint API, so that a change to it is one edit here.
#include <descent/io/checkpoint.hpp>
#include <descent/training/fit.hpp>
#include <filesystem>
#include <optional>

namespace examples {

// FitOptions::checkpoint for a checkpoint of the run in `file` after every epoch (and at its
// end). With resume, fit goes on from the run `file` holds, when there is one.
inline descent::Checkpointing every_epoch(const std::filesystem::path& file, bool resume) {
    return descent::Checkpointing{descent::checkpoint_file(file), 1, resume};
}

// The last epoch the checkpoint in `file` holds; none when there is no such file.
inline std::optional<int> checkpointed_epoch(const std::filesystem::path& file) {
    if (!std::filesystem::exists(file)) return std::nullopt;
    return descent::read_checkpoint(file).progress.epoch;
}

}  // namespace examples
