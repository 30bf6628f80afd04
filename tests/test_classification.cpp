// Classification metrics: accuracy, confusion matrix, precision / recall / F1 and
// log-loss, against counts done by hand and against scikit-learn's numbers.
#include <cmath>
#include <descent/metrics/classification.hpp>
#include <vector>

#include "file_support.hpp"
#include "support.hpp"

using Catch::Matchers::WithinAbs;
using Catch::Matchers::WithinRel;
using descent::test::message_of;

namespace {

// 10 samples of 3 classes (and a 4th class that never occurs).
const std::vector<int> truth{0, 1, 2, 2, 1, 0, 2, 1, 0, 2};
const std::vector<int> guess{0, 2, 2, 2, 1, 0, 1, 1, 1, 2};

}  // namespace

TEST_CASE("accuracy and the confusion matrix count what was predicted for what", "[metrics]") {
    CHECK(descent::accuracy(guess, truth) == 0.7);  // 7 of 10 on the diagonal
    CHECK(descent::accuracy(truth, truth) == 1.0);
    const auto m = descent::confusion_matrix(guess, truth, 4);
    descent::ConfusionMatrix expected(4, 4);
    // clang-format off
    expected << 2, 1, 0, 0,   // class 0: samples 0, 5 right, sample 8 called 1
                0, 2, 1, 0,   // class 1: samples 4, 7 right, sample 1 called 2
                0, 1, 3, 0,   // class 2: sample 6 called 1
                0, 0, 0, 0;
    // clang-format on
    CHECK(m == expected);
    CHECK(m.sum() == 10);
}

TEST_CASE("precision, recall and F1 per class and their macro averages", "[metrics]") {
    const auto report = descent::classification_report(guess, truth, 4);
    // By hand from the confusion matrix: class 0 called twice, both right, 2 of 3 found;
    // class 1 called 4 times, 2 right, 2 of 3 found; class 2 called 4 times, 3 right, 3 of 4 found.
    CHECK(report.precision(0) == 1.0);
    CHECK(report.recall(0) == 2.0 / 3);
    CHECK(report.precision(1) == 0.5);
    CHECK(report.recall(1) == 2.0 / 3);
    CHECK(report.precision(2) == 0.75);
    CHECK(report.recall(2) == 0.75);
    CHECK_THAT(report.f1(0), WithinRel(0.8, 1e-15));      // 2 · 1 · 2/3 / (5/3)
    CHECK_THAT(report.f1(1), WithinRel(4.0 / 7, 1e-15));  // 2 · 1/2 · 2/3 / (7/6)
    CHECK(report.f1(2) == 0.75);
    // class 3: never present nor predicted, scores 0 and counts in the averages
    CHECK(report.precision(3) == 0.0);
    CHECK(report.recall(3) == 0.0);
    CHECK(report.f1(3) == 0.0);
    CHECK(report.support == Eigen::Vector4i(3, 3, 4, 0));
    CHECK(report.accuracy == 0.7);

    // scikit-learn 1.2.1 (Debian's python3-sklearn), computed once:
    // precision_recall_fscore_support(truth, guess, labels=[0, 1, 2, 3], average="macro", zero_division=0)
    CHECK_THAT(report.macro_precision, WithinRel(0.5625, 1e-15));
    CHECK_THAT(report.macro_recall, WithinRel(0.5208333333333333, 1e-15));
    CHECK_THAT(report.macro_f1, WithinRel(0.5303571428571429, 1e-15));
    CHECK_THAT(report.f1(1), WithinRel(0.5714285714285715, 1e-15));
}

TEMPLATE_TEST_CASE("log-loss of class probabilities, clipped", "[metrics]", float, double) {
    using M = descent::test::Matrix<TestType>;
    M f(3, 10);  // one distribution per column
    // clang-format off
    f << 0.7, 0.1, 0.2, 0.05, 0.3, 0.8, 0.2, 0.1, 0.4, 0.25,
         0.2, 0.3, 0.2, 0.05, 0.6, 0.1, 0.5, 0.8, 0.5, 0.25,
         0.1, 0.6, 0.6, 0.9,  0.1, 0.1, 0.3, 0.1, 0.1, 0.5;
    // clang-format on
    // By hand: −(1/10) Σ log f(x_t)_{y_t} over the probabilities of the true classes.
    const double p_true[] = {0.7, 0.3, 0.6, 0.9, 0.6, 0.8, 0.3, 0.8, 0.4, 0.5};
    double by_hand = 0;
    for (double p : p_true) by_hand -= std::log(p) / 10;
    const double tol = std::is_same_v<TestType, float> ? 1e-7 : 1e-15;
    CHECK_THAT(descent::log_loss(f, truth), WithinRel(by_hand, tol));
    // scikit-learn 1.2.1: log_loss(truth, f.T, labels=[0, 1, 2]), computed once
    CHECK_THAT(descent::log_loss(f, truth), WithinRel(0.5947357330842932, tol));

    // a certain mistake costs −log ε, not infinity
    M certain = M::Zero(2, 1);
    certain(0, 0) = 1;
    CHECK_THAT(descent::log_loss(certain, std::vector<int>{1}), WithinRel(-std::log(1e-15), 1e-12));
    CHECK_THAT(descent::log_loss(certain, std::vector<int>{0}), WithinAbs(0, 2e-15));
}

TEST_CASE("log-loss of a single sigmoid output (binary) and of several (multi-label)", "[metrics]") {
    Eigen::MatrixXd f(1, 5);
    f << 0.9, 0.2, 0.6, 0.99, 0.45;  // P(y = 1)
    const std::vector<int> y{1, 0, 1, 1, 0};
    const double by_hand =
        -(std::log(0.9) + std::log(0.8) + std::log(0.6) + std::log(0.99) + std::log(0.55)) / 5;
    CHECK_THAT(descent::log_loss(f, y), WithinRel(by_hand, 1e-15));
    // scikit-learn 1.2.1: log_loss([1, 0, 1, 1, 0], [0.9, 0.2, 0.6, 0.99, 0.45]), computed once
    CHECK_THAT(descent::log_loss(f, y), WithinRel(0.28944340546942976, 1e-15));
    // the same as K = 1 labels of a multi-label task
    Eigen::MatrixXd targets(1, 5);
    targets << 1, 0, 1, 1, 0;
    CHECK_THAT(descent::binary_log_loss(f, targets), WithinRel(by_hand, 1e-15));
    // two labels: the mean over all K N entries
    Eigen::MatrixXf two(2, 2), both(2, 2);
    two << 0.5f, 0.25f, 0.75f, 1.0f;
    both << 1, 0, 1, 1;
    const double expected = -(std::log(0.5) + std::log(0.75) + std::log(0.75) + std::log(1 - 1e-15)) / 4;
    CHECK_THAT(descent::binary_log_loss(two, both), WithinRel(expected, 1e-7));
}

TEST_CASE("metrics refuse inputs that do not fit, naming what and where", "[metrics]") {
    const std::vector<int> three{0, 1, 2}, two{0, 1};
    CHECK(message_of<descent::shape_error>([&] { descent::accuracy(two, three); }) ==
          "accuracy: 2 predictions for 3 labels");
    CHECK(message_of<descent::argument_error>([&] { descent::accuracy({}, {}); }) == "accuracy: no samples");
    CHECK(message_of<descent::label_error>([&] { descent::confusion_matrix(three, three, 2); }) ==
          "confusion_matrix: label 2 of sample 2 is outside [0, 2)");
    const std::vector<int> negative{0, -1, 1};
    CHECK(message_of<descent::label_error>([&] { descent::classification_report(negative, three, 3); }) ==
          "confusion_matrix: predicted class -1 of sample 1 is outside [0, 3)");
    CHECK_THROWS_AS(descent::confusion_matrix(three, three, 0), descent::argument_error);

    Eigen::MatrixXd f = Eigen::MatrixXd::Constant(3, 2, 1.0 / 3);
    CHECK(message_of<descent::shape_error>([&] { descent::log_loss(f, three); }) ==
          "log_loss: 2 samples (columns) of probabilities for 3 labels");
    CHECK(message_of<descent::label_error>([&] {
              descent::log_loss(f, std::vector<int>{0, 3});
          }) == "log_loss: label 3 of sample 1 is outside [0, 3)");
    f(0, 1) = 0.5;
    CHECK(message_of<descent::argument_error>([&] { descent::log_loss(f, two); }) ==
          "log_loss: the probabilities of sample 1 sum to 1.16667, not 1");
    f(0, 1) = -2;
    CHECK(message_of<descent::argument_error>([&] { descent::log_loss(f, two); }) ==
          "log_loss: probability -2 of output 0 for sample 1 is outside [0, 1] (a logit, not a "
          "probability?)");
    f(0, 1) = std::nan("");
    CHECK_THROWS_AS(descent::log_loss(f, two), descent::non_finite_error);
    Eigen::MatrixXd binary = Eigen::MatrixXd::Constant(1, 2, 0.5);
    CHECK(message_of<descent::label_error>([&] {
              descent::log_loss(binary, std::vector<int>{0, 2});
          }) == "log_loss: label 2 of sample 1 is outside [0, 2)");
    CHECK(message_of<descent::shape_error>([&] { descent::binary_log_loss(binary, f); }) ==
          "binary_log_loss: probabilities are 1 x 2 but targets 3 x 2");
}
