#pragma once
// What fit reports after every epoch and every batch; the epoch reports are part of a
// checkpoint too (io/checkpoint.hpp), so that a resumed run returns its whole history.
#include <Eigen/Core>
#include <limits>

namespace descent {

// What one epoch did, handed to FitOptions::on_epoch. The figures fit does not compute
// are NaN (the validation ones without a validation set).
struct EpochReport {
    int epoch;       // 1-based
    double loss;     // mean over the epoch's batches of l + λΩ, before each step
    double seconds;  // wall time of the epoch, its validation included
    // The fraction of the epoch's samples that their batch's forward pass classified
    // correctly, with θ as it was just before that batch's step: a running figure, like
    // loss, read from the forward pass the step makes anyway, so it costs no extra pass.
    double train_accuracy = std::numeric_limits<double>::quiet_NaN();
    // Mean l (without λΩ) and accuracy over the validation set, with θ at the end of the epoch.
    double validation_loss = std::numeric_limits<double>::quiet_NaN();
    double validation_accuracy = std::numeric_limits<double>::quiet_NaN();
    // The epoch with the lowest validation loss so far (by more than min_delta when early
    // stopping); 0 without a validation set. With early stopping, fit returns with this
    // epoch's parameters, and the last report's best_epoch says which epoch that was.
    int best_epoch = 0;
    // α of the epoch's last step (NaN when the optimizer does not expose it).
    double learning_rate = std::numeric_limits<double>::quiet_NaN();
};

// Where an epoch is, handed to FitOptions::on_batch after every step.
struct BatchReport {
    int epoch;                  // 1-based
    int epochs;                 // FitOptions::epochs
    Eigen::Index samples_done;  // in this epoch, this batch included
    Eigen::Index samples_total;
    double loss;            // running mean of l + λΩ over the epoch's batches so far
    double train_accuracy;  // running, as EpochReport::train_accuracy (NaN if not available)
};

}  // namespace descent
