// Kill test: a training run with a checkpoint after every epoch, killed with SIGKILL again
// and again at random moments (and, on purpose, between a checkpoint's complete write and
// its rename), always leaves a checkpoint that loads, and resuming it after every kill
// ends with the parameters, optimizer state and progress of the run that was never killed,
// bit for bit.
//
// Each run is a child process (fork) calling fit with Checkpointing{path, 1, resume}; the
// parent sleeps a seeded random delay and kills it, then starts the next child, which
// resumes. To land kills inside checkpoint writes at will, this test replaces fsync, which
// atomic_write (detail/file.hpp) calls after writing the temporary file and before renaming
// it over the checkpoint: in a child, each fsync may SIGKILL the process instead.
//
// Bounded: about 40 kills, a few seconds on a disk where fsync takes milliseconds.
#include <chrono>
#include <cstdio>
#include <descent/error.hpp>
#include <descent/io/checkpoint.hpp>
#include <descent/io/model_file.hpp>
#include <descent/optimizers/adam.hpp>
#include <descent/regularizers/l2.hpp>
#include <descent/threads.hpp>
#include <descent/training/fit.hpp>
#include <descent/training/schedule.hpp>
#include <filesystem>
#include <string>
#include <thread>

#include "file_support.hpp"
#include "training_support.hpp"

#if defined(__linux__)
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

// Set in a child only: the chance, per fsync, of dying there, and the draws.
double kill_in_fsync = 0;
std::uint64_t fsync_draws = 0;

}  // namespace

// Replaces the C library's fsync for this test program (the executable's definition is found
// first). In a child, with probability kill_in_fsync per file (not directory) synced, the
// process dies right here: after atomic_write wrote its temporary file, before the rename
// that publishes it.
extern "C" int fsync(int fd) {
    struct stat info {};
    if (kill_in_fsync > 0 && ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode)) {
        fsync_draws = fsync_draws * 6364136223846793005ull + 1442695040888963407ull;
        if (static_cast<double>(fsync_draws >> 11) * 0x1.0p-53 < kill_in_fsync) ::raise(SIGKILL);
    }
    return static_cast<int>(::syscall(SYS_fsync, fd));
}

namespace {

namespace fs = std::filesystem;
using descent::test::same_bits;
using descent::test::same_snapshot;
using FloatNet = descent::test::SmallNet<float>;
using Clock = std::chrono::steady_clock;

constexpr int epochs = 40;

struct ResumeProblem {
    descent::test::Samples<float> train = descent::test::blobs<float>(10, 3);  // 30 samples
    descent::test::Samples<float> held_out = descent::test::blobs<float>(5, 4);
};

// The run every child continues: Adam with L2, a schedule, validation and early stopping
// (with patience enough to let the run go on), a checkpoint after every epoch.
std::vector<descent::EpochReport> train(const ResumeProblem& p, const fs::path& checkpoint, FloatNet& net) {
    descent::Adam<descent::L2> adam(0.02, 1e-4);
    descent::FitOptions o;
    o.epochs = epochs;
    o.batch_size = 4;
    o.seed = 17;
    o.schedule = descent::InverseTimeDecay(0.02, 0.001);
    o.validate_on(p.held_out.x, p.held_out.y);
    o.early_stopping = descent::EarlyStopping{epochs, 0.0};
    o.checkpoint = descent::Checkpointing{descent::checkpoint_file(checkpoint), 1, true};
    return descent::fit(net, adam, p.train.x, p.train.y, o);
}

// A child: resume (or start) the run, save the final network, exit 0; 2 on an exception.
[[noreturn]] void child(const ResumeProblem& p, const fs::path& dir, double kill_chance, std::uint64_t seed) {
    kill_in_fsync = kill_chance;
    fsync_draws = seed;
    try {
        FloatNet net({2, 8, 3}, 5);
        train(p, dir / "run.checkpoint", net);
        kill_in_fsync = 0;
        descent::save(net, dir / "final.model");
        ::_exit(0);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child: %s\n", e.what());
        ::_exit(2);
    }
}

bool has_temporary(const fs::path& dir) {
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename().string().starts_with(".run.checkpoint.tmp-")) return true;
    return false;
}

struct Tally {
    int kills = 0;            // children that died by SIGKILL, ours or fsync's
    int kills_in_writes = 0;  // ... leaving a temporary file: between its creation and its rename
    int kills_at_fsync = 0;   // ... by the child itself, at fsync, on purpose
    int runs = 0;             // runs completed and compared
};

}  // namespace

TEST_CASE("A run killed at random moments resumes from its checkpoint to the uninterrupted result",
          "[kill_resume]") {
    descent::set_threads(1);
    const ResumeProblem p;
    descent::test::TempDir dir;

    // The uninterrupted run, in this process: its returned θ and its last checkpoint.
    fs::create_directories(dir / "reference");
    FloatNet reference({2, 8, 3}, 5);
    const auto reports = train(p, dir / "reference" / "run.checkpoint", reference);
    REQUIRE(reports.size() == static_cast<std::size_t>(epochs));
    const auto expected = descent::read_checkpoint(dir / "reference" / "run.checkpoint");

    // How long a whole run takes in a child: the scale of the random delays.
    const auto start = Clock::now();
    {
        fs::create_directories(dir / "timing");
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) child(p, dir / "timing", 0.0, 0);
        int status = 0;
        ::waitpid(pid, &status, 0);
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 0);
    }
    const double run_seconds = std::chrono::duration<double>(Clock::now() - start).count();
    // Each child lives a random part of about a tenth of a run, so that a run takes some
    // fifteen kills; and at least 1 ms, for a child to get somewhere at all.
    const double longest = std::max(run_seconds / 8, 1e-3);

    descent::Engine engine(2024);
    Tally tally;
    const int wanted = 40;
    const auto budget = Clock::now() + std::chrono::seconds(15);
    for (int run = 0; tally.kills < wanted && Clock::now() < budget; ++run) {
        const fs::path here = dir / ("run" + std::to_string(run));
        fs::create_directories(here);
        const fs::path checkpoint = here / "run.checkpoint";
        int last_epoch = 0;
        for (int attempt = 0;; ++attempt) {
            CAPTURE(run, attempt);
            // Up to 25 kills a run; then the last child finishes it. One child in four dies by
            // its own hand inside a checkpoint write (at fsync: written, not yet renamed), the
            // others at a random moment of the parent's choosing.
            const bool killing = tally.kills < wanted && attempt < 25 && Clock::now() < budget;
            const bool at_fsync = killing && attempt % 4 == 1;
            const pid_t pid = ::fork();
            REQUIRE(pid >= 0);
            if (pid == 0)
                child(p, here, at_fsync ? 0.5 : 0.0, static_cast<std::uint64_t>(run * 1000 + attempt + 1));

            int status = 0;
            if (killing && !at_fsync) {
                const auto delay =
                    std::chrono::duration<double>(longest * descent::detail::uniform01(engine));
                std::this_thread::sleep_for(delay);
                if (::waitpid(pid, &status, WNOHANG) == 0) {  // still running: kill it now
                    ::kill(pid, SIGKILL);
                    ::waitpid(pid, &status, 0);
                }
            } else {
                ::waitpid(pid, &status, 0);
            }
            if (WIFSIGNALED(status)) {
                REQUIRE(WTERMSIG(status) == SIGKILL);
                ++tally.kills;
                if (at_fsync) ++tally.kills_at_fsync;
                if (has_temporary(here)) ++tally.kills_in_writes;
                // Whenever a checkpoint has been written, one is there and loads, no older than before.
                if (last_epoch > 0) REQUIRE(fs::exists(checkpoint));
                if (fs::exists(checkpoint)) {
                    const auto saved = descent::read_checkpoint(checkpoint);
                    CHECK(saved.progress.epoch >= last_epoch);
                    last_epoch = saved.progress.epoch;
                    FloatNet probe({2, 8, 3}, 0);
                    descent::Adam<descent::L2> adam(0.02, 1e-4);
                    CHECK_NOTHROW(descent::restore_checkpoint(saved, probe, adam));
                }
                continue;
            }
            REQUIRE(WIFEXITED(status));
            REQUIRE(WEXITSTATUS(status) == 0);
            break;
        }
        // The run, killed and resumed, ends as the uninterrupted one.
        const FloatNet final = descent::load<FloatNet>(here / "final.model");
        CHECK(same_bits(final.parameters(), reference.parameters()));
        const auto got = descent::read_checkpoint(checkpoint);
        CHECK(got.model == expected.model);
        CHECK(same_snapshot(got.optimizer, expected.optimizer));
        CHECK(got.progress.epoch == epochs);
        CHECK(got.progress.engine == expected.progress.engine);
        CHECK(got.progress.order == expected.progress.order);
        CHECK(got.progress.best_epoch == expected.progress.best_epoch);
        CHECK(same_bits(got.progress.best_parameters, expected.progress.best_parameters));
        REQUIRE(got.progress.reports.size() == expected.progress.reports.size());
        for (std::size_t e = 0; e < got.progress.reports.size(); ++e) {
            CHECK(got.progress.reports[e].loss == expected.progress.reports[e].loss);
            CHECK(got.progress.reports[e].validation_loss == expected.progress.reports[e].validation_loss);
        }
        ++tally.runs;
    }
    std::printf(
        "kill test: %d kills survived over %d runs (%d inside checkpoint writes, %d of them at fsync on "
        "purpose; a run alone %.3f s)\n",
        tally.kills, tally.runs, tally.kills_in_writes, tally.kills_at_fsync, run_seconds);
    CHECK(tally.kills >= 30);
    CHECK(tally.kills_at_fsync >= 5);
    CHECK(tally.kills_in_writes >= tally.kills_at_fsync);
    CHECK(tally.runs >= 1);
}

#else

TEST_CASE("A run killed at random moments resumes from its checkpoint to the uninterrupted result",
          "[kill_resume]") {
    descent::test::skip("the kill test needs fork, SIGKILL and a replaceable fsync (Linux)");
}

#endif
