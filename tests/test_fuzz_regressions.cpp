// What the fuzzers of tests/fuzz/ found, kept as tests of the normal suite:
// each input that ever broke a reader, embedded as bytes and read through the
// public API, with the error it must give now.
//
// The readers also promise that no size claimed in a header is allocated on
// the header's word: a header that lies costs at most a few times what the
// file really holds. This file counts the largest single block taken through
// operator new (which std::vector and std::string use) to hold them to it.

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <descent/data/csv.hpp>
#include <descent/data/idx.hpp>
#include <descent/io/checkpoint.hpp>
#include <descent/io/load_network.hpp>
#include <descent/io/model_file.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <new>
#include <string>

#include "file_support.hpp"
#include "fuzz/checkpoint_run.hpp"
#include "support.hpp"

using Catch::Matchers::Contains;
using descent::test::idx_header;
using descent::test::message_of;
using descent::test::TempDir;
using descent::test::write_gz;

// The largest block operator new has handed out since a LargestBlock was made.
// Every form of operator new and delete that is not aligned is replaced, so
// that each block is freed by the allocator that made it (AddressSanitizer
// checks that too).
namespace {
std::atomic<std::size_t> largest_block{0};

void* counted_new(std::size_t size) {
    std::size_t seen = largest_block.load(std::memory_order_relaxed);
    while (size > seen && !largest_block.compare_exchange_weak(seen, size, std::memory_order_relaxed)) {
    }
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}

struct LargestBlock {
    LargestBlock() { largest_block.store(0); }
    std::size_t bytes() const { return largest_block.load(); }
};
}  // namespace

void* operator new(std::size_t size) {
    return counted_new(size);
}
void* operator new[](std::size_t size) {
    return counted_new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    try {
        return counted_new(size);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    try {
        return counted_new(size);
    } catch (const std::bad_alloc&) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}

namespace {

// n bytes that deflate cannot shrink (a linear congruential sequence's high bytes).
std::string incompressible(std::size_t n) {
    std::string out(n, '\0');
    std::uint32_t state = 12345;
    for (auto& c : out) {
        state = state * 1664525u + 1013904223u;
        c = static_cast<char>(state >> 24);
    }
    return out;
}

}  // namespace

TEST_CASE("the block counter sees std::vector's allocations", "[fuzz_regressions]") {
    const LargestBlock largest;
    std::vector<char> block(300000);
    CHECK(largest.bytes() >= block.size());
}

// Before: a plain file of 108 bytes whose header claimed 4294967295 labels made
// the reader take 1 MiB, its first chunk, before finding the shortfall.
TEST_CASE("a plain IDX file that claims 4 G labels costs about its own size", "[fuzz_regressions]") {
    TempDir dir;
    const auto file = dir.write("labels", idx_header(0x801, {0xFFFFFFFF}) + std::string(100, '\1'));
    const LargestBlock largest;
    CHECK_THAT(message_of<descent::data_error>([&] { descent::read_idx_labels(file); }),
               Contains("(4294967295 bytes) but the file holds only 100"));
    CHECK(largest.bytes() < 4096);
}

// Before: a 64 KiB gzip file whose header claimed 2^47 pixels made the reader
// reserve deflate's worst case, 1032 times the file (66 MB), on the header's word.
TEST_CASE("a gzip IDX file that claims 2^47 pixels costs a few times its own size", "[fuzz_regressions]") {
    TempDir dir;
    const auto file =
        write_gz(dir, "images.gz", idx_header(0x803, {0x7FFFFFFF, 256, 256}) + incompressible(1 << 16));
    REQUIRE(std::filesystem::file_size(file) > 60000);
    const LargestBlock largest;
    CHECK_THAT(message_of<descent::data_error>([&] { descent::read_idx_images(file); }),
               Contains("but the file holds only 65536"));
    CHECK(largest.bytes() <= 8 * std::filesystem::file_size(file));
}

// Found by fuzz_checkpoint: a checkpoint (its CRC-32 right) of the fuzzers' small run after
// epoch 1, whose early stopping kept a NaN among the best epoch's parameters and a best loss
// no later epoch beats. fit resumed it, trained epochs 2 and 3, then put the best epoch's θ
// back: it returned normally with a NaN in the network. The input is rebuilt here from the
// run's own checkpoint (7.5 KB, mostly the random engine's state) with the change that mattered.
TEST_CASE("a checkpoint whose best parameters hold a NaN is corrupt, and fit resumes nothing",
          "[fuzz_regressions]") {
    TempDir dir;
    const descent::fuzz::CheckpointRun run;
    const auto path = dir / "run.checkpoint";
    {
        auto net = descent::fuzz::checkpoint_net();
        auto adam = descent::fuzz::checkpoint_optimizer();
        descent::fit(net, adam, run.x, run.y, run.options(path, 1));
    }
    descent::Checkpoint c = descent::read_checkpoint(path);
    REQUIRE(c.progress.best_epoch == 1);
    REQUIRE(c.progress.best_parameters.size() > 0);
    c.progress.best_loss = 0;  // no later epoch is better: early stopping puts epoch 1's θ back

    // The writer refuses a NaN there, so the file is made by hand: the first best parameter
    // is where two encodings differ that differ only in it, by every byte of its float.
    auto with_first = [&](std::uint32_t bits) {
        descent::Checkpoint d = c;
        d.progress.best_parameters(0) = std::bit_cast<float>(bits);
        return descent::encode_checkpoint(d);
    };
    std::string bytes = with_first(0x11111111);
    const std::string other = with_first(0x22222222);
    std::size_t at = 0;
    while (bytes[at] == other[at]) ++at;
    const float nan = std::numeric_limits<float>::quiet_NaN();  // the model is float: so are they
    std::memcpy(bytes.data() + at, &nan, sizeof nan);
    bytes.resize(bytes.size() - 4);
    const std::uint32_t crc = descent::detail::crc32(bytes);
    bytes.append(reinterpret_cast<const char*>(&crc), 4);  // this machine's byte order, as the file's
    dir.write("run.checkpoint", bytes);

    c.progress.best_parameters(0) = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH(descent::encode_checkpoint(c),
                      Contains("encode_checkpoint: the best parameters hold nan at index 0"));
    CHECK_THAT(message_of<descent::corrupt_checkpoint_error>([&] { descent::read_checkpoint(path); }),
               Contains("corrupt checkpoint: the best parameters hold nan at index 0"));
    auto net = descent::fuzz::checkpoint_net();
    auto adam = descent::fuzz::checkpoint_optimizer();
    const auto before = net.parameters().eval();
    CHECK_THROWS_AS(descent::fit(net, adam, run.x, run.y, run.options(path, 3)),
                    descent::corrupt_checkpoint_error);
    CHECK(net.parameters() == before);
    CHECK(adam.steps() == 0);
}

namespace {

// A model file of `net` with `edit` applied to it (its CRC-32 removed first, recomputed after).
template <class Net, class Edit>
std::string edited_model(const Net& net, Edit edit) {
    const auto theta = net.parameters();
    std::string bytes = descent::detail::encode_model(net.architecture(), {}, theta.data(),
                                                      static_cast<std::size_t>(theta.size()));
    bytes.resize(bytes.size() - 4);
    edit(bytes);
    const std::uint32_t crc = descent::detail::crc32(bytes);
    return bytes.append(reinterpret_cast<const char*>(&crc), 4);  // this machine's byte order, as the file's
}

using SmallModel =
    descent::Mlp<descent::Dense<descent::Relu, float>, descent::Dense<descent::Identity, float>>;

// Every way of reading a model file, each expected to refuse `file` as E, within `limit` bytes a block.
template <class E>
void refused_within(const std::filesystem::path& file, std::size_t limit) {
    SmallModel net({3, 4, 2}, 1);
    const LargestBlock largest;
    CHECK_THROWS_AS(descent::load(net, file), E);
    CHECK_THROWS_AS(descent::load<SmallModel>(file), E);
    CHECK_THROWS_AS(descent::load_model(file), E);
    CHECK_THROWS_AS(descent::read_architecture(file), E);
    CHECK_THROWS_AS(descent::load_network(file), E);
    CHECK(largest.bytes() < limit);
}

}  // namespace

// Model files of format version 2 (payload at 17: scalar, head 4 + 21, layer count at 43,
// layer 1 at 47, layer 2 at 88, metadata count at 133, parameter count at 137) that claim
// more than they hold: each is refused before a block of more than a few times the file.
TEST_CASE("a model file that claims a million layers or 2^40 parameters costs about its own size",
          "[fuzz_regressions]") {
    TempDir dir;
    const SmallModel net({3, 4, 2}, 1);
    const std::size_t size = edited_model(net, [](std::string&) {}).size();
    const std::size_t limit = 4 * size + 1024;  // the file, its image and θ, and the messages
    refused_within<descent::corrupt_model_file_error>(
        dir.write("layers", edited_model(net,
                                         [](std::string& b) {
                                             const std::uint32_t n = 1000000;
                                             std::memcpy(b.data() + 43, &n, 4);
                                         })),
        limit);
    refused_within<descent::corrupt_model_file_error>(
        dir.write("parameters", edited_model(net,
                                             [](std::string& b) {
                                                 const std::uint64_t n = std::uint64_t{1} << 40;
                                                 std::memcpy(b.data() + 137, &n, 8);
                                             })),
        limit);
    refused_within<descent::corrupt_model_file_error>(
        dir.write("metadata", edited_model(net,
                                           [](std::string& b) {
                                               const std::uint32_t n = 0xFFFFFFFF;
                                               std::memcpy(b.data() + 133, &n, 4);
                                           })),
        limit);
    // A hidden layer of 2^31 units (3-2^31-2, 12.9 G parameters), with the file's 26: load<Net>
    // would build that network from the sizes, were its parameter count not checked first. The
    // other readers see a sound file of another architecture.
    const auto huge =
        dir.write("huge", edited_model(net, [](std::string& b) {
                      const std::uint64_t n = std::uint64_t{1} << 31;
                      std::memcpy(b.data() + 47 + 4 + 5 + 4 + 4 + 8, &n, 8);  // layer 1's outputs
                      std::memcpy(b.data() + 88 + 4 + 5 + 4 + 8, &n, 8);      // layer 2's inputs
                  }));
    // A layer kind that no network here has ("dexse"): refused by the typed loaders.
    const auto unknown = dir.write("kind", edited_model(net, [](std::string& b) { b[88 + 4 + 2] = 'x'; }));
    const LargestBlock largest;
    CHECK_THROWS_AS(descent::load<SmallModel>(unknown), descent::architecture_mismatch_error);
    SmallModel target({3, 4, 2}, 1);
    CHECK_THROWS_AS(descent::load(target, unknown), descent::architecture_mismatch_error);
    CHECK(descent::read_architecture(unknown).layers[1].kind == "dexse");
    CHECK_THAT(
        message_of<descent::architecture_mismatch_error>([&] { (void)descent::load_network(unknown); }),
        Contains("layer 2 of 2 is of kind \"dexse\", which Network does not know (dense)"));
    CHECK_THAT(message_of<descent::corrupt_model_file_error>([&] { descent::load<SmallModel>(huge); }),
               Contains("it holds 26 parameters where its architecture has 12884901890"));
    SmallModel into({3, 4, 2}, 1);
    CHECK_THROWS_AS(descent::load(into, huge), descent::architecture_mismatch_error);
    CHECK(descent::read_architecture(huge).layers[0].outputs == Eigen::Index{1} << 31);
    CHECK(descent::load_model(huge).parameters.size() == 26);
    // load_network builds from the sizes too, and checks θ's size against them first.
    CHECK_THAT(message_of<descent::corrupt_model_file_error>([&] { (void)descent::load_network(huge); }),
               Contains("it holds 26 parameters where 3-2147483648:relu-2 (softmax_cross_entropy, float) has "
                        "12884901890"));
    CHECK(largest.bytes() < limit);
}
