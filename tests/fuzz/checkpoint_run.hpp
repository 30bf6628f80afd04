#pragma once
// The small training run that fuzz_checkpoint resumes from its inputs and that
// make_seeds checkpoints for the seed corpus: the same network, optimizer,
// data and options in both, so that a seed resumes past every check of fit's.
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/io/checkpoint.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <descent/optimizers/adam.hpp>
#include <descent/training/early_stopping.hpp>
#include <descent/training/fit.hpp>
#include <filesystem>
#include <vector>

namespace descent::fuzz {

using CheckpointNet = Mlp<Dense<Relu, float>, Dense<Identity, float>>;

inline CheckpointNet checkpoint_net() {
    return CheckpointNet({3, 4, 2}, 7);
}
inline Adam<> checkpoint_optimizer() {
    return Adam<>(0.01);
}

// 6 training and 4 validation samples of 3 features, 2 classes.
struct CheckpointRun {
    CheckpointNet::Matrix x{3, 6};
    std::vector<int> y{0, 1, 0, 1, 1, 0};
    CheckpointNet::Matrix validation_x{3, 4};
    std::vector<int> validation_y{1, 0, 0, 1};

    CheckpointRun() {
        for (Eigen::Index i = 0; i < x.size(); ++i) x(i) = static_cast<float>((i * 7) % 5) - 2.0f;
        for (Eigen::Index i = 0; i < validation_x.size(); ++i)
            validation_x(i) = static_cast<float>((i * 3) % 4) - 1.5f;
    }

    // Batches of 4 (the last one of 2), early stopping, a checkpoint at `path` after
    // every epoch, resumed from when it exists.
    FitOptions options(const std::filesystem::path& path, int epochs) const {
        FitOptions o;
        o.epochs = epochs;
        o.batch_size = 4;
        o.seed = 5;
        o.validate_on(validation_x, validation_y);
        o.early_stopping = EarlyStopping{2, 0.0};
        o.checkpoint = Checkpointing{checkpoint_file(path), 1, true};
        return o;
    }
};

}  // namespace descent::fuzz
