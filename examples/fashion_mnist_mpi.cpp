// Fashion-MNIST trained by several processes at once: data-parallel SGD over MPI.
//
//   mpirun -np 2 ./fashion_mnist_mpi [--epochs 10] [--batch 128] ...   (--help lists all)
//
// Every process (rank) loads the data and builds the same network; rank 0's initial
// weights are sent to all. Each step, the ranks take their shares of one global batch of
// N x --batch samples, compute the gradient on their share, add the gradients up with
// one MPI all-reduce, and all apply the same update: N ranks at batch B train exactly as
// one process at batch N·B would, only faster when the all-reduce costs less than the
// computation it spares. On several machines, with the program and the data at the same
// path on each:
//
//   mpirun -np 4 --host node1:2,node2:2 ./fashion_mnist_mpi --data /data/fashion-mnist
//
// Rank 0 prints, saves the model and evaluates the test set; the last line printed is
// test_accuracy=<four decimals>, then where the steps' time went (the all-reduce's share).
#include <cstdio>
#include <descent/descent.hpp>
#include <descent/distributed/fit.hpp>
#include <descent/distributed/mpi.hpp>
#include <string>
#include <vector>

#include "common/checkpointing.hpp"
#include "common/flags.hpp"

namespace {

using namespace descent;
using Net = Mlp<Dense<Relu>, Dense<Relu>, Dense<Identity>>;  // 784-512-256-10 in float

struct Options : examples::TrainingFlags, examples::RecipeFlags {
    double learning_rate = 0.05;
    std::string checkpoint;

    Options() {
        epochs = 10;
        threads = 1;  // per rank
        patience = 5;
    }
};

// The flags, their help and their defaults; CLI11 checks each value as it reads it.
void declare(CLI::App& app, Options& o) {
    examples::add_recipe_flags(app, o);
    examples::add_training_flags(app, o);
    app.get_option("--data")->description("the directory of the IDX files, at this path on every host");
    app.get_option("--batch")->description("minibatch per rank: each step sees N x B samples");
    app.get_option("--threads")->description("threads per rank for the matrix products");
    app.get_option("--save")->description("rank 0 saves the trained model");
    app.add_option("--lr", o.learning_rate, "learning rate α")->type_name("A")->capture_default_str();
    app.add_option("--checkpoint", o.checkpoint,
                   "rank 0 writes a checkpoint after every epoch; run again, the training goes on from it "
                   "(only rank 0 reads it: other hosts need no copy)")
        ->type_name("FILE");
}

int run(const mpi::Communicator& world, const Options& o) {
    const bool lead = world.rank() == 0;  // the rank that talks, saves and tests
    set_threads(o.threads);

    // Every rank loads the whole training set: its share of each global batch is redrawn
    // every epoch. The split and the standardisation depend only on the data and the seed,
    // so every rank computes the same ones (mpi::fit checks that the ranks agree).
    auto [all_train, test] = load_fashion_mnist<float>(o.data);
    auto [train, validation] = split(all_train, o.validation, o.seed);
    Standardizer<float> standardize;
    standardize.fit(train.x).apply(train);
    standardize.apply(validation);
    if (lead)
        std::printf("%d ranks x batch %ld = global batch %ld; train %ld, validation %ld, test %ld samples\n",
                    world.size(), long(o.batch), long(o.batch * world.size()), long(train.size()),
                    long(validation.size()), long(test.size()));

    // The weights are drawn from the seed; mpi::fit sends rank 0's to all ranks anyway.
    Net net({train.features(), 512, 256, 10}, o.seed);

    FitOptions options;
    options.epochs = o.epochs;
    options.batch_size = o.batch;
    options.seed = o.seed;
    options.validate_on(validation.x, validation.y);
    options.early_stopping = EarlyStopping{o.patience, 0.0};
    // α_t = α / (1 + β t), t in updates: the global batch sets the number of updates per epoch.
    const auto global_batch = o.batch * world.size();
    const auto steps_per_epoch = (train.size() + global_batch - 1) / global_batch;
    options.schedule = InverseTimeDecay(o.learning_rate, o.decay / static_cast<double>(steps_per_epoch));
    // The progress line reads rank 0's own running loss; the epoch lines hold every rank's.
    Progress progress(stderr, lead && !o.quiet ? Progress::Mode::automatic : Progress::Mode::never);
    progress.attach(options);
    // A killed job, run again with the same flags, goes on from the last epoch it finished.
    if (!o.checkpoint.empty()) options.checkpoint = examples::every_epoch(o.checkpoint, true);

    Momentum optimizer(o.learning_rate, o.lambda, L2{}, o.momentum);
    mpi::StepTimes times;
    const auto reports = mpi::fit(world, net, optimizer, train.x, train.y, options, &times);

    const auto& best = reports[static_cast<std::size_t>(reports.back().best_epoch - 1)];
    double seconds = 0;
    for (const auto& r : reports) seconds += r.seconds;
    // The slowest rank's all-reduce time: the ranks wait for each other inside it.
    const double all_reduce = world.max(times.all_reduce_seconds);
    const double step_seconds = times.compute_seconds + times.all_reduce_seconds + times.update_seconds;
    if (!lead) return 0;

    std::printf("trained %zu epochs in %.1f s; kept epoch %d: validation_accuracy=%.4f\n", reports.size(),
                seconds, best.epoch, best.validation_accuracy);
    standardize.fold_into(net);  // from here on the network takes raw pixels
    if (!o.save.empty()) {
        descent::save(net, o.save);
        std::printf("saved %s\n", o.save.c_str());
    }
    std::printf("test_accuracy=%.4f\n", net.accuracy(test.x, test.y));
    // The steps of this run (not those before a checkpoint it resumed from), whole epochs.
    const auto steps = static_cast<double>(times.steps);
    const double samples = steps / static_cast<double>(steps_per_epoch) * static_cast<double>(train.size());
    std::printf(
        "steps=%lld  per step: compute %.2f ms, all-reduce %.2f ms (slowest rank %.2f ms), update %.2f ms; "
        "%.0f samples/s in the steps\n",
        static_cast<long long>(times.steps), 1e3 * times.compute_seconds / steps,
        1e3 * times.all_reduce_seconds / steps, 1e3 * all_reduce / steps, 1e3 * times.update_seconds / steps,
        samples / step_seconds);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    mpi::Environment environment(argc, argv);
    const mpi::Communicator world;
    // Whatever fails on whichever rank, bad flags or a missing file on one host, ends
    // the whole job with "rank R: <what>" instead of leaving the other ranks waiting.
    return mpi::abort_on_failure(world, [&] {
        Options o;
        CLI::App app(
            "Trains a 784-512-256-10 ReLU network on Fashion-MNIST over N MPI ranks (data-parallel SGD)\n"
            "and prints test_accuracy=<four decimals>, then the time per step and the all-reduce's share.",
            "mpirun -np N fashion_mnist_mpi");
        declare(app, o);
        if (!examples::parse(app, argc, argv, world.rank() == 0)) return 0;
        return run(world, o);
    });
}
