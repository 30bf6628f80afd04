#pragma once
// Watching training: a progress line on a terminal (Progress), and a learning
// curve written as CSV (CsvLogger). Both are hooks for fit's FitOptions;
// attach() installs them, keeping whatever hooks were there before.
//
//   Progress progress;            // on stderr, only when it is a terminal
//   CsvLogger curve("curve.csv");
//   progress.attach(options);
//   curve.attach(options);
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <locale>
#include <ostream>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>

#include "../error.hpp"
#include "fit_options.hpp"

#if defined(_WIN32)
#include <io.h>
#else
#include <unistd.h>
#endif

namespace descent {

namespace detail {

inline bool is_terminal(std::FILE* stream) {
#if defined(_WIN32)
    return _isatty(_fileno(stream)) != 0;
#else
    return ::isatty(::fileno(stream)) != 0;
#endif
}

// 75 s as "1:15", 3725 s as "1:02:05".
inline std::string clock_time(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    const auto s = static_cast<long long>(seconds + 0.5);
    char text[32];
    if (s >= 3600)
        std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(text, sizeof text, "%lld:%02lld", s / 60, s % 60);
    return text;
}

}  // namespace detail

// One line per epoch, rewritten in place ('\r') as the epoch goes:
//   epoch 3/10  12800/60000  5321 samples/s  loss 0.4321  acc 0.8734  val_acc 0.8612  eta 1:23
// and completed with the validation figures when the epoch ends. "eta" is the time
// left for the remaining epochs at the current epoch's rate (early stopping may end
// sooner); val_acc during an epoch is the previous epoch's.
class Progress {
public:
    enum class Mode {
        automatic,  // print only when the stream is a terminal
        always,     // print even into a file or a pipe (for tests, or to keep a log)
        never       // quiet
    };

    // requires: stream open for writing, refresh_seconds >= 0.
    // throws: argument_error for a null stream or a negative or NaN refresh_seconds.
    explicit Progress(std::FILE* stream = stderr, Mode mode = Mode::automatic, double refresh_seconds = 0.2)
        : stream_(stream),
          active_(mode == Mode::always || (mode == Mode::automatic && stream && detail::is_terminal(stream))),
          refresh_(refresh_seconds) {
        if (!stream) throw argument_error("Progress: the stream is null");
        if (!(refresh_seconds >= 0))
            throw argument_error("Progress: refresh_seconds must be at least 0, got " +
                                 detail::number(refresh_seconds));
    }

    // Whether anything will be printed.
    bool active() const { return active_; }

    // Installs this object's hooks in options, after any on_batch and on_epoch already
    // there (both still run). This object must outlive the fit that uses options.
    FitOptions& attach(FitOptions& options) {
        if (!active_) return options;  // keeps fit's per-batch cost at nothing
        options.on_batch = [this, previous = std::move(options.on_batch)](const BatchReport& batch) {
            if (previous) previous(batch);
            on_batch(batch);
        };
        options.on_epoch = [this, previous = std::move(options.on_epoch)](const EpochReport& report) {
            const bool stop = previous && previous(report);
            on_epoch(report);
            return stop;
        };
        return options;
    }

    void on_batch(const BatchReport& batch) {
        if (!active_) return;
        const auto now = std::chrono::steady_clock::now();
        if (batch.epoch != epoch_) {  // the first batch of an epoch: the rate is timed from here
            epoch_ = batch.epoch;
            epochs_ = batch.epochs;
            samples_total_ = batch.samples_total;
            start_ = now;
            start_samples_ = batch.samples_done;
            last_print_ = now;
            rate_ = std::nan("");
        } else {
            const double elapsed = seconds(now - start_);
            if (elapsed > 0) rate_ = static_cast<double>(batch.samples_done - start_samples_) / elapsed;
        }
        loss_ = batch.loss;
        train_accuracy_ = batch.train_accuracy;
        samples_done_ = batch.samples_done;
        if (seconds(now - last_print_) < refresh_ && batch.samples_done < batch.samples_total) return;
        last_print_ = now;
        const double left =
            static_cast<double>((samples_total_ - samples_done_) + (epochs_ - epoch_) * samples_total_) /
            rate_;
        std::string line = head() + "  eta " + detail::clock_time(left);
        show(line, false);
    }

    void on_epoch(const EpochReport& report) {
        if (!active_) return;
        loss_ = report.loss;
        train_accuracy_ = report.train_accuracy;
        validation_accuracy_ = report.validation_accuracy;
        if (report.epoch != epoch_) {  // no batch was seen (on_batch not attached)
            epoch_ = report.epoch;
            samples_done_ = samples_total_ = 0;
        }
        std::string line = head(report.validation_loss);
        char text[64];
        std::snprintf(text, sizeof text, "  %.1fs", report.seconds);
        line += text;
        if (report.best_epoch == report.epoch) line += "  (best)";
        show(line, true);
    }

private:
    static double seconds(std::chrono::steady_clock::duration d) {
        return std::chrono::duration<double>(d).count();
    }

    std::string head(double validation_loss = std::nan("")) const {
        char text[256];
        int n = std::snprintf(text, sizeof text, "epoch %d/%d", epoch_, epochs_);
        auto append = [&](const char* format, auto value) {
            if (n < static_cast<int>(sizeof text))
                n += std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), format, value);
        };
        if (samples_total_ > 0) {
            append("  %lld", static_cast<long long>(samples_done_));
            append("/%lld", static_cast<long long>(samples_total_));
        }
        if (std::isfinite(rate_)) append("  %.0f samples/s", rate_);
        append("  loss %.4f", loss_);
        if (!std::isnan(train_accuracy_)) append("  acc %.4f", train_accuracy_);
        if (!std::isnan(validation_loss)) append("  val_loss %.4f", validation_loss);
        if (!std::isnan(validation_accuracy_)) append("  val_acc %.4f", validation_accuracy_);
        return text;
    }

    // Rewrites the current line; pads with spaces over a longer previous line.
    void show(const std::string& line, bool final) {
        std::string out = "\r" + line;
        if (line.size() < width_) out.append(width_ - line.size(), ' ');
        width_ = final ? 0 : line.size();
        if (final) out += '\n';
        std::fputs(out.c_str(), stream_);
        std::fflush(stream_);
    }

    std::FILE* stream_;
    bool active_;
    double refresh_;
    int epoch_ = 0;
    int epochs_ = 0;
    Eigen::Index samples_done_ = 0;
    Eigen::Index samples_total_ = 0;
    Eigen::Index start_samples_ = 0;
    std::chrono::steady_clock::time_point start_{};
    std::chrono::steady_clock::time_point last_print_{};
    double rate_ = std::nan("");
    double loss_ = std::nan("");
    double train_accuracy_ = std::nan("");
    double validation_accuracy_ = std::nan("");
    std::size_t width_ = 0;
};

// The learning curve as CSV, one row per epoch, flushed as it is written so that it
// can be plotted while training runs:
//   epoch,loss,train_acc,val_loss,val_acc,seconds
// A figure fit did not compute (NaN: the validation ones without a validation set)
// is an empty field, which spreadsheets and pandas read as missing.
class CsvLogger {
public:
    static constexpr const char* header = "epoch,loss,train_acc,val_loss,val_acc,seconds";

    // Writes to out, which must outlive this object; writes the header now.
    explicit CsvLogger(std::ostream& out) : out_(&out) { start(); }

    // Creates (or truncates) the file at path and writes the header.
    // throws: io_error when the file cannot be opened for writing.
    explicit CsvLogger(const std::filesystem::path& path) : out_(&file_) {
        errno = 0;
        file_.open(path);
        if (!file_)
            throw io_error(
                "CsvLogger: cannot open " + path.string() + " for writing: " +
                (errno != 0 ? std::generic_category().message(errno) : std::string("unknown error")));
        start();
    }

    CsvLogger(const CsvLogger&) = delete;
    CsvLogger& operator=(const CsvLogger&) = delete;

    // One row; usable as FitOptions::on_epoch directly, or through attach().
    void operator()(const EpochReport& r) {
        std::ostringstream row;  // its own stream, so as not to change the locale or precision of out
        row.imbue(std::locale::classic());  // 0.5, never 0,5: a comma separates the fields
        row.precision(10);
        row << r.epoch;
        for (const double value :
             {r.loss, r.train_accuracy, r.validation_loss, r.validation_accuracy, r.seconds}) {
            row << ',';
            if (!std::isnan(value)) row << value;
        }
        row << '\n';
        *out_ << row.str();
        out_->flush();
    }

    // Installs this logger in options.on_epoch, after any hook already there.
    // This object must outlive the fit that uses options.
    FitOptions& attach(FitOptions& options) {
        options.on_epoch = [this, previous = std::move(options.on_epoch)](const EpochReport& report) {
            const bool stop = previous && previous(report);
            (*this)(report);
            return stop;
        };
        return options;
    }

private:
    void start() {
        *out_ << header << '\n';
        out_->flush();
    }

    std::ofstream file_;
    std::ostream* out_;
};

}  // namespace descent
