#pragma once
// How well a classifier does, from its predictions and the true labels: accuracy,
// the confusion matrix, precision, recall and F1 per class with their macro
// averages, and the log-loss of predicted probabilities.
//
//   const auto predicted = net.predict(test.x);                         // argmax_c f(x)_c
//   double accuracy = descent::accuracy(predicted, test.y);
//   auto report = descent::classification_report(predicted, test.y, 3);
//   report.recall(2);  report.macro_f1;
//   double loss = descent::log_loss(net.predict_proba(test.x), test.y);  // −(1/N) Σ log f(x)_y
//
// Plain functions on what a network returns, free of any network type. Every input is
// checked (sizes, label ranges, probabilities): a metric computed on mismatched arrays
// would be a number all the same, and a wrong one.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "../detail/check_range.hpp"
#include "../error.hpp"

namespace descent {

namespace detail {

inline void check_same_samples(std::size_t predicted, std::size_t labels, const char* where,
                               const char* what) {
    if (predicted != labels)
        throw shape_error(std::string(where) + ": " + std::to_string(predicted) + " " + what + " for " +
                          std::to_string(labels) + " labels");
    if (labels == 0) throw argument_error(std::string(where) + ": no samples");
}

inline void check_in_classes(std::span<const int> values, int classes, const char* where, const char* what) {
    if (classes < 1)
        throw argument_error(std::string(where) + ": the class count must be at least 1, got " +
                             std::to_string(classes));
    for (std::size_t t = 0; t < values.size(); ++t)
        if (values[t] < 0 || values[t] >= classes)
            throw label_error(std::string(where) + ": " + what + " " + std::to_string(values[t]) +
                              " of sample " + std::to_string(t) + " is outside [0, " +
                              std::to_string(classes) + ")");
}

}  // namespace detail

// (1/N) Σ_t [ŷ_t = y_t], the share of samples whose predicted class is the true one.
// requires: as many predictions as labels, at least one.
// throws: shape_error, argument_error.
inline double accuracy(std::span<const int> predicted, std::span<const int> labels) {
    detail::check_same_samples(predicted.size(), labels.size(), "accuracy", "predictions");
    std::size_t right = 0;
    for (std::size_t t = 0; t < labels.size(); ++t) right += predicted[t] == labels[t] ? 1 : 0;
    return static_cast<double>(right) / static_cast<double>(labels.size());
}

using ConfusionMatrix = Eigen::Matrix<Eigen::Index, Eigen::Dynamic, Eigen::Dynamic>;

// The C x C counts M(i, j) of samples of true class i predicted as class j (rows the
// truth, columns the prediction, as scikit-learn): the diagonal holds the right ones.
// requires: as many predictions as labels, at least one; all in [0, classes).
// throws: shape_error, argument_error, label_error.
inline ConfusionMatrix confusion_matrix(std::span<const int> predicted, std::span<const int> labels,
                                        int classes) {
    detail::check_same_samples(predicted.size(), labels.size(), "confusion_matrix", "predictions");
    detail::check_in_classes(labels, classes, "confusion_matrix", "label");
    detail::check_in_classes(predicted, classes, "confusion_matrix", "predicted class");
    ConfusionMatrix counts = ConfusionMatrix::Zero(classes, classes);
    for (std::size_t t = 0; t < labels.size(); ++t) ++counts(labels[t], predicted[t]);
    return counts;
}

// Per class c, from the confusion matrix M: TP_c = M(c, c), FP_c = Σ_i M(i, c) − TP_c,
// FN_c = Σ_j M(c, j) − TP_c.
struct ClassificationReport {
    Eigen::VectorXd
        precision;  // TP_c / (TP_c + FP_c): of the samples called c, the share that are; 0 if none is
    Eigen::VectorXd recall;  // TP_c / (TP_c + FN_c): of the samples of class c, the share found; 0 if none is
    Eigen::VectorXd f1;      // 2 P_c R_c / (P_c + R_c), their harmonic mean; 0 when both are 0
    Eigen::VectorXi support;  // how many samples are of class c
    double accuracy = 0;      // Σ_c TP_c / N
    // Unweighted means over the C classes, so that a small class counts as much as a
    // large one (scikit-learn's average="macro"; macro_f1 is the mean of the F1_c).
    double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
};

// Precision, recall and F1 of every class 0, ..., classes−1, present or not (a class that
// is neither predicted nor present scores 0 and still counts in the macro averages, as
// scikit-learn's labels=range(C) with zero_division=0).
// requires, throws: as confusion_matrix.
inline ClassificationReport classification_report(std::span<const int> predicted, std::span<const int> labels,
                                                  int classes) {
    const ConfusionMatrix m = confusion_matrix(predicted, labels, classes);
    ClassificationReport report;
    report.precision.resize(classes);
    report.recall.resize(classes);
    report.f1.resize(classes);
    report.support.resize(classes);
    auto ratio = [](Eigen::Index a, Eigen::Index b) { return b == 0 ? 0.0 : double(a) / double(b); };
    for (int c = 0; c < classes; ++c) {
        const Eigen::Index tp = m(c, c), called = m.col(c).sum(), present = m.row(c).sum();
        const double p = ratio(tp, called), r = ratio(tp, present);
        report.precision(c) = p;
        report.recall(c) = r;
        report.f1(c) = p + r == 0 ? 0.0 : 2 * p * r / (p + r);
        report.support(c) = static_cast<int>(present);
    }
    report.accuracy = ratio(m.trace(), m.sum());
    report.macro_precision = report.precision.mean();
    report.macro_recall = report.recall.mean();
    report.macro_f1 = report.f1.mean();
    return report;
}

// The smallest and largest probability log_loss takes: a confident mistake costs
// −log ε ≈ 34.5 instead of infinity, and one bad sample cannot hide the rest.
inline constexpr double log_loss_epsilon = 1e-15;

namespace detail {

// Probabilities in [0, 1], finite; each column summing to 1 when it is a distribution.
template <class Derived>
void check_probabilities(const Eigen::MatrixBase<Derived>& f, bool distributions, const char* where) {
    for (Eigen::Index t = 0; t < f.cols(); ++t) {
        for (Eigen::Index c = 0; c < f.rows(); ++c) {
            const double p = static_cast<double>(f(c, t));
            if (!std::isfinite(p))
                throw non_finite_error(std::string(where) + ": probability " + number(p) + " of output " +
                                       std::to_string(c) + " for sample " + std::to_string(t));
            if (p < 0 || p > 1)
                throw argument_error(std::string(where) + ": probability " + number(p) + " of output " +
                                     std::to_string(c) + " for sample " + std::to_string(t) +
                                     " is outside [0, 1] (a logit, not a probability?)");
        }
        // A softmax in float sums to 1 within C·2⁻²⁴; 1e-3 leaves room for C in the thousands.
        const double sum = f.col(t).template cast<double>().sum();
        if (distributions && std::abs(sum - 1) > 1e-3)
            throw argument_error(std::string(where) + ": the probabilities of sample " + std::to_string(t) +
                                 " sum to " + number(sum) + ", not 1");
    }
}

inline double clipped_log(double p) {
    return std::log(std::clamp(p, log_loss_epsilon, 1 - log_loss_epsilon));
}

}  // namespace detail

// The cross-entropy of predicted probabilities, l = −(1/N) Σ_t log f(x_t)_{y_t}, each
// probability clipped to [ε, 1 − ε] (log_loss_epsilon).
// f: C x N, one distribution over the C classes per sample (columns summing to 1, as
// predict_proba returns them); or 1 x N, a single sigmoid output f(x) = P(y = 1 | x) of
// a binary task, where l = −(1/N) Σ_t [y_t log f(x_t) + (1 − y_t) log(1 − f(x_t))].
// requires: one label per column, in [0, C) (in {0, 1} for 1 x N); probabilities finite,
//           in [0, 1], columns summing to 1 within 1e-3 (C ≥ 2).
// throws: shape_error, argument_error, label_error, non_finite_error.
template <class Derived>
double log_loss(const Eigen::MatrixBase<Derived>& probabilities, std::span<const int> labels) {
    const auto& f = probabilities.derived();
    detail::check_same_samples(static_cast<std::size_t>(f.cols()), labels.size(), "log_loss",
                               "samples (columns) of probabilities");
    const bool binary = f.rows() == 1;
    detail::check_in_classes(labels, binary ? 2 : static_cast<int>(f.rows()), "log_loss", "label");
    detail::check_probabilities(f, !binary, "log_loss");
    double sum = 0;
    for (Eigen::Index t = 0; t < f.cols(); ++t) {
        const int y = labels[static_cast<std::size_t>(t)];
        const double p = binary ? (y == 1 ? double(f(0, t)) : 1 - double(f(0, t))) : double(f(y, t));
        sum -= detail::clipped_log(p);
    }
    return sum / static_cast<double>(f.cols());
}

// Binary cross-entropy of K independent sigmoid outputs against K x N targets in [0, 1]
// (multi-label: y_kt = 1 when sample t has label k), averaged over all K N entries:
//   l = −(1/(K N)) Σ_k Σ_t [y_kt log f_kt + (1 − y_kt) log(1 − f_kt)],  f clipped to [ε, 1 − ε].
// requires: the same shape, at least one sample; values finite, in [0, 1].
// throws: shape_error, argument_error, non_finite_error.
template <class P, class Y>
double binary_log_loss(const Eigen::MatrixBase<P>& probabilities, const Eigen::MatrixBase<Y>& targets) {
    const auto& f = probabilities.derived();
    const auto& y = targets.derived();
    if (f.rows() != y.rows() || f.cols() != y.cols())
        throw shape_error("binary_log_loss: probabilities are " + std::to_string(f.rows()) + " x " +
                          std::to_string(f.cols()) + " but targets " + std::to_string(y.rows()) + " x " +
                          std::to_string(y.cols()));
    if (f.size() == 0) throw argument_error("binary_log_loss: no samples");
    detail::check_probabilities(f, false, "binary_log_loss");
    detail::check_probabilities(y, false, "binary_log_loss (targets)");
    double sum = 0;
    for (Eigen::Index t = 0; t < f.cols(); ++t)
        for (Eigen::Index k = 0; k < f.rows(); ++k) {
            const double p = static_cast<double>(f(k, t)), target = static_cast<double>(y(k, t));
            sum -= target * detail::clipped_log(p) + (1 - target) * detail::clipped_log(1 - p);
        }
    return sum / static_cast<double>(f.size());
}

}  // namespace descent
