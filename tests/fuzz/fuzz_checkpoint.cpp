// libFuzzer harness of the checkpoint loader (io/checkpoint.hpp) and of fit's
// resuming from a checkpoint (training/fit.hpp).
//
// As in fuzz_model, each input is taken twice: as it is, and with its last 4
// bytes made the right CRC-32 in the byte order it declares, so that mutations
// reach the sections behind the checksum. Each time:
//   - decode_checkpoint, the reader's in-memory entry point;
//   - when it decodes: encoding is a fixed point of decoding; restore_checkpoint
//     into a fresh network and Adam
//     either succeeds or throws a checkpoint_error leaving both unchanged;
//   - fit resumes the run of checkpoint_run.hpp from it (the seeds are that
//     run's own checkpoints), for up to 3 epochs: a checkpoint_error with
//     network and optimizer unchanged, a divergence_error, or a finished run.
// Never another exception, a crash, a leak, a hang or an allocation beyond a
// small multiple of the input.
#include <unistd.h>

#include <bit>
#include <cstdint>
#include <descent/io/checkpoint.hpp>
#include <filesystem>
#include <string>
#include <string_view>

#include "checkpoint_run.hpp"
#include "fuzz_support.hpp"

namespace {

bool same_snapshot(const descent::OptimizerSnapshot& a, const descent::OptimizerSnapshot& b) {
    return a.optimizer == b.optimizer && a.regularizer == b.regularizer &&
           std::bit_cast<std::uint64_t>(a.learning_rate) == std::bit_cast<std::uint64_t>(b.learning_rate) &&
           a.settings == b.settings && a.steps == b.steps && a.state.size() == b.state.size() &&
           (a.state.size() == 0 || a.state == b.state);
}

// fit writes checkpoints with an atomic rename beside the file, so the file
// lives in a directory of its own (on tmpfs when there is one: fsync is free).
class Scratch {
public:
    Scratch() {
        std::error_code error;
        const std::filesystem::path shm = "/dev/shm";
        const auto base =
            std::filesystem::is_directory(shm, error) ? shm : std::filesystem::temp_directory_path();
        directory_ = base / ("descent-fuzz-checkpoint-" + std::to_string(::getpid()));
        std::filesystem::create_directories(directory_);
    }
    ~Scratch() {
        std::error_code ignored;
        std::filesystem::remove_all(directory_, ignored);
    }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;

    static Scratch& instance() {
        static Scratch scratch;  // removed at exit (not after a crash: the input is what matters then)
        return scratch;
    }
    std::filesystem::path hold(std::string_view bytes) const {
        const auto path = directory_ / "run.checkpoint";
        descent::detail::atomic_write(path, bytes);
        return path;
    }

private:
    std::filesystem::path directory_;
};

void check_restore(const descent::Checkpoint& c) {
    static const auto prototype = descent::fuzz::checkpoint_net();
    auto net = prototype;
    auto adam = descent::fuzz::checkpoint_optimizer();
    const auto before = adam.snapshot();
    try {
        descent::restore_checkpoint(c, net, adam);
    } catch (const descent::checkpoint_error&) {
        DESCENT_FUZZ_CHECK(net.parameters() == prototype.parameters());
        DESCENT_FUZZ_CHECK(same_snapshot(adam.snapshot(), before));
    }
}

void check_resume(std::string_view bytes, bool finite_theta) {
    static const descent::fuzz::CheckpointRun run;
    static const auto prototype = descent::fuzz::checkpoint_net();
    auto net = prototype;
    auto adam = descent::fuzz::checkpoint_optimizer();
    const auto before = adam.snapshot();
    const auto path = Scratch::instance().hold(bytes);
    try {
        const auto reports = descent::fit(net, adam, run.x, run.y, run.options(path, 3));
        DESCENT_FUZZ_CHECK(reports.size() <= 3);
        // Only a checkpoint's own NaN can come back, when no epoch is left to train
        // (a step would stop on it): fit never makes one of a finite θ.
        DESCENT_FUZZ_CHECK(net.parameters().allFinite() || !finite_theta);
    } catch (const descent::checkpoint_error&) {
        DESCENT_FUZZ_CHECK(net.parameters() == prototype.parameters());
        DESCENT_FUZZ_CHECK(same_snapshot(adam.snapshot(), before));
    } catch (const descent::divergence_error&) {
        // A checkpoint may hold θ or a state that a step sends to infinity: fit says so.
    }
}

void take(std::string_view bytes) {
    std::optional<descent::Checkpoint> c;
    try {
        c = descent::decode_checkpoint(bytes, "fuzz");
    } catch (const descent::checkpoint_error&) {
        return;
    }
    // Encoding is a fixed point of decoding. (Not always the input's own bytes: the
    // reader ignores the early stopping rule's fields when the rule is off, and a
    // float NaN's payload can change through the double it is kept in.)
    const std::string encoded = descent::encode_checkpoint(*c);
    DESCENT_FUZZ_CHECK(descent::encode_checkpoint(descent::decode_checkpoint(encoded)) == encoded);
    check_restore(*c);
    check_resume(bytes, c->model.parameters.allFinite());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string bytes(descent::fuzz::as_text(data, size));
    take(bytes);
    if (bytes.size() >= 4 + 18) {
        const std::string_view body(bytes.data(), bytes.size() - 4);
        const std::uint32_t crc = descent::detail::crc32(body);
        const bool big = bytes[17] == 'B';  // the byte order mark follows the 17-byte magic
        for (int i = 0; i < 4; ++i)
            bytes[body.size() + static_cast<std::size_t>(i)] =
                static_cast<char>(crc >> (big ? 24 - 8 * i : 8 * i));
        take(bytes);
    }
    return 0;
}
