// Progress lines (quiet off a terminal) and the CSV learning curve, with fit's per-batch hook.
#include <cmath>
#include <cstdio>
#include <descent/activations/identity.hpp>
#include <descent/error.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/training/fit.hpp>
#include <descent/training/progress.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinRel;
using descent::CsvLogger;
using descent::Progress;

namespace {

using Net = descent::test::SmallNet<double>;

// 10 samples by batches of 4: batches end at 4, 8 and 10 samples.
struct Problem {
    Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 10, 1);
    std::vector<int> y = descent::test::labels_cycling(10, 2);
    Eigen::MatrixXd x_val = descent::test::pseudo_random<double>(3, 6, 2);
    std::vector<int> y_val = descent::test::labels_cycling(6, 2);
    Net net{{3, 4, 2}, 1};
    descent::Sgd<> sgd{0.1};
    descent::FitOptions options;
    Problem() {
        options.epochs = 2;
        options.batch_size = 4;
    }
};

// Everything written to a temporary file.
std::string contents(std::FILE* file) {
    std::fflush(file);
    std::rewind(file);
    std::string text;
    char buffer[512];
    while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, file)) text.append(buffer, n);
    return text;
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream in(text);
    while (std::getline(in, part, separator)) parts.push_back(part);
    if (!text.empty() && text.back() == separator) parts.emplace_back();
    return parts;
}

}  // namespace

TEST_CASE("fit calls on_batch after every step with the running figures", "[progress]") {
    Problem p;
    std::vector<descent::BatchReport> batches;
    p.options.on_batch = [&](const descent::BatchReport& b) { batches.push_back(b); };
    const auto reports = descent::fit(p.net, p.sgd, p.x, p.y, p.options);
    REQUIRE(batches.size() == 6);  // 3 steps per epoch
    const std::vector<Eigen::Index> done{4, 8, 10, 4, 8, 10};
    for (std::size_t i = 0; i < batches.size(); ++i) {
        CAPTURE(i);
        CHECK(batches[i].epoch == static_cast<int>(i / 3) + 1);
        CHECK(batches[i].epochs == 2);
        CHECK(batches[i].samples_done == done[i]);
        CHECK(batches[i].samples_total == 10);
    }
    // The last batch's running figures are the epoch's.
    CHECK_THAT(batches[2].loss, WithinRel(reports[0].loss, 1e-15));
    CHECK(batches[2].train_accuracy == reports[0].train_accuracy);
    CHECK_THAT(batches[5].loss, WithinRel(reports[1].loss, 1e-15));
    CHECK(batches[5].train_accuracy == reports[1].train_accuracy);
}

TEST_CASE("Progress prints nothing off a terminal, or when told to be quiet", "[progress]") {
    std::FILE* file = std::tmpfile();
    REQUIRE(file != nullptr);
    Problem p;
    SECTION("automatic, into a file") {
        Progress progress(file);
        CHECK_FALSE(progress.active());
        progress.attach(p.options);
        CHECK_FALSE(p.options.on_batch);  // inactive: fit's per-batch cost stays nothing
        descent::fit(p.net, p.sgd, p.x, p.y, p.options);
    }
    SECTION("never") {
        Progress progress(file, Progress::Mode::never);
        CHECK_FALSE(progress.active());
        progress.on_batch({1, 2, 4, 10, 0.5, 0.5});
        progress.on_epoch({1, 0.5, 0.1});
    }
    CHECK(contents(file).empty());
    std::fclose(file);
}

TEST_CASE("Progress rewrites one line per epoch and ends it with the validation figures", "[progress]") {
    std::FILE* file = std::tmpfile();
    REQUIRE(file != nullptr);
    Problem p;
    p.options.validate_on(p.x_val, p.y_val);
    int earlier_hook_calls = 0;
    p.options.on_epoch = [&](const descent::EpochReport&) { ++earlier_hook_calls; };
    Progress progress(file, Progress::Mode::always, /*refresh_seconds=*/0);
    progress.attach(p.options);
    const auto reports = descent::fit(p.net, p.sgd, p.x, p.y, p.options);
    CHECK(earlier_hook_calls == 2);  // attach kept the hook that was there

    const std::string text = contents(file);
    std::fclose(file);
    const auto lines = split(text, '\n');
    REQUIRE(lines.size() == 3);  // two epochs, each ended by '\n', and nothing after
    CHECK(lines[2].empty());
    for (int e = 0; e < 2; ++e) {
        CAPTURE(e, lines[static_cast<std::size_t>(e)]);
        const auto updates = split(lines[static_cast<std::size_t>(e)], '\r');
        // "" before the first '\r', one update per batch (refresh 0), then the epoch's final line.
        REQUIRE(updates.size() == 5);
        const std::string epoch = "epoch " + std::to_string(e + 1) + "/2";
        CHECK_THAT(updates[1], Contains(epoch + "  4/10"));
        CHECK_THAT(updates[2], Contains(epoch + "  8/10"));
        CHECK_THAT(updates[3], Contains("eta "));
        const std::string& last = updates[4];
        CHECK_THAT(last, Contains(epoch + "  10/10"));
        CHECK_THAT(last, Contains("samples/s"));
        char expected[96];
        std::snprintf(expected, sizeof expected, "loss %.4f  acc %.4f  val_loss %.4f  val_acc %.4f",
                      reports[static_cast<std::size_t>(e)].loss,
                      reports[static_cast<std::size_t>(e)].train_accuracy,
                      reports[static_cast<std::size_t>(e)].validation_loss,
                      reports[static_cast<std::size_t>(e)].validation_accuracy);
        CHECK_THAT(last, Contains(expected));
        if (reports[static_cast<std::size_t>(e)].best_epoch == e + 1) CHECK_THAT(last, Contains("(best)"));
    }
    // During epoch 2, val_acc is epoch 1's.
    char val_acc[32];
    std::snprintf(val_acc, sizeof val_acc, "val_acc %.4f", reports[0].validation_accuracy);
    CHECK_THAT(split(lines[1], '\r')[1], Contains(val_acc));
}

TEST_CASE("Progress refuses a null stream and a negative refresh interval", "[progress]") {
    CHECK_THROWS_WITH(Progress(nullptr, Progress::Mode::always), Contains("Progress: the stream is null"));
    CHECK_THROWS_WITH(Progress(stderr, Progress::Mode::never, -1),
                      Contains("Progress: refresh_seconds must be at least 0, got -1"));
    CHECK_THROWS_AS(Progress(stderr, Progress::Mode::never, std::nan("")), descent::argument_error);
    CHECK_NOTHROW(Progress(stderr, Progress::Mode::never, 0));
}

TEST_CASE("Progress writes times left as m:ss or h:mm:ss", "[progress]") {
    CHECK(descent::detail::clock_time(0) == "0:00");
    CHECK(descent::detail::clock_time(75) == "1:15");
    CHECK(descent::detail::clock_time(3725) == "1:02:05");
    CHECK(descent::detail::clock_time(std::nan("")) == "?");
}

TEST_CASE("CsvLogger writes the header and one row per epoch", "[progress]") {
    Problem p;
    p.options.epochs = 3;
    std::ostringstream out;
    CsvLogger curve(out);
    CHECK(out.str() == "epoch,loss,train_acc,val_loss,val_acc,seconds\n");

    SECTION("with a validation set") {
        p.options.validate_on(p.x_val, p.y_val);
        curve.attach(p.options);
        const auto reports = descent::fit(p.net, p.sgd, p.x, p.y, p.options);
        const auto lines = split(out.str(), '\n');
        REQUIRE(lines.size() == 5);  // header, 3 rows, "" after the last '\n'
        for (std::size_t e = 0; e < 3; ++e) {
            CAPTURE(e, lines[e + 1]);
            const auto fields = split(lines[e + 1], ',');
            REQUIRE(fields.size() == 6);
            const auto& r = reports[e];
            CHECK(std::stoi(fields[0]) == r.epoch);
            CHECK_THAT(std::stod(fields[1]), WithinRel(r.loss, 1e-9));
            CHECK_THAT(std::stod(fields[2]), WithinRel(r.train_accuracy, 1e-9));
            CHECK_THAT(std::stod(fields[3]), WithinRel(r.validation_loss, 1e-9));
            CHECK_THAT(std::stod(fields[4]), WithinRel(r.validation_accuracy, 1e-9));
            CHECK_THAT(std::stod(fields[5]), WithinRel(r.seconds, 1e-9));
        }
    }
    SECTION("without one, the validation fields are empty") {
        curve.attach(p.options);
        descent::fit(p.net, p.sgd, p.x, p.y, p.options);
        const auto lines = split(out.str(), '\n');
        REQUIRE(lines.size() == 5);
        const auto fields = split(lines[1], ',');
        REQUIRE(fields.size() == 6);
        CHECK(fields[0] == "1");
        CHECK_FALSE(fields[2].empty());
        CHECK(fields[3].empty());
        CHECK(fields[4].empty());
    }
}

TEST_CASE("CsvLogger writes a file, and names a path it cannot open", "[progress]") {
    const auto directory = std::filesystem::temp_directory_path() / "descent_test_progress";
    std::filesystem::create_directories(directory);
    const auto path = directory / "curve.csv";
    {
        CsvLogger curve(path);
        curve({1, 0.5, 0.25});
    }
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str() == "epoch,loss,train_acc,val_loss,val_acc,seconds\n1,0.5,,,,0.25\n");
    std::filesystem::remove_all(directory);

    const auto missing = directory / "no" / "such" / "dir" / "curve.csv";
    CHECK_THROWS_AS(CsvLogger(missing), descent::io_error);
    CHECK_THROWS_WITH(CsvLogger(missing),
                      Contains("CsvLogger: cannot open " + missing.string() + " for writing"));
}
