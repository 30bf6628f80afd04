// Validation during fit and early stopping on the validation loss: the best epoch's θ
// comes back, the reports say which epoch that was.
#include <algorithm>
#include <cmath>
#include <descent/activations/identity.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/layers/dense.hpp>
#include <descent/mlp.hpp>
#include <descent/optimizers/sgd.hpp>
#include <descent/training/early_stopping.hpp>
#include <descent/training/fit.hpp>
#include <limits>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::WithinRel;
using descent::BestEpoch;
using descent::EarlyStopping;

namespace {

using Net = descent::test::SmallNet<double>;

// Label = [x_0 > 0], with every `flip`-th label flipped (0 for none): a training set
// with such noise is learnt at first, then memorised, and the validation loss (on
// clean labels) falls, then rises.
std::vector<int> labels_of(const Eigen::MatrixXd& x, int flip) {
    std::vector<int> y(static_cast<std::size_t>(x.cols()));
    for (Eigen::Index t = 0; t < x.cols(); ++t) {
        auto& label = y[static_cast<std::size_t>(t)];
        label = x(0, t) > 0 ? 1 : 0;
        if (flip != 0 && t % flip == 0) label = 1 - label;
    }
    return y;
}

}  // namespace

TEST_CASE("BestEpoch keeps the lowest loss and says when patience runs out", "[early_stopping]") {
    BestEpoch<Eigen::VectorXd> best(EarlyStopping{2, 0.0});
    Eigen::VectorXd theta(2);
    // losses 1.0, 0.8, 0.9, 0.85: the best is epoch 2; epochs 3 and 4 do not improve → stop after 4.
    theta << 1, 1;
    CHECK_FALSE(best.record(1, 1.0, theta));
    theta << 2, 2;
    CHECK_FALSE(best.record(2, 0.8, theta));
    theta << 3, 3;
    CHECK_FALSE(best.record(3, 0.9, theta));
    CHECK(best.epoch() == 2);
    theta << 4, 4;
    CHECK(best.record(4, 0.85, theta));
    CHECK(best.epoch() == 2);
    CHECK(best.loss() == 0.8);
    CHECK(best.restore(theta));
    CHECK(theta == Eigen::Vector2d(2, 2));
}

TEST_CASE("BestEpoch counts only improvements by more than min_delta, and never a NaN", "[early_stopping]") {
    BestEpoch<Eigen::VectorXd> best(EarlyStopping{3, 0.1});
    const Eigen::VectorXd theta = Eigen::VectorXd::Zero(1);
    best.record(1, 1.0, theta);
    best.record(2, 0.95, theta);  // 0.95 > 1.0 - 0.1: not an improvement
    CHECK(best.epoch() == 1);
    best.record(3, std::numeric_limits<double>::quiet_NaN(), theta);
    CHECK(best.epoch() == 1);
    CHECK_FALSE(best.record(4, 0.85, theta));  // 0.85 < 0.9: improvement
    CHECK(best.epoch() == 4);
    CHECK_FALSE(best.record(5, 0.8, theta));
    CHECK_FALSE(best.record(6, 0.8, theta));
    CHECK(best.record(7, 0.8, theta));  // 7 - 4 = 3 epochs without improvement
}

TEST_CASE("BestEpoch without early stopping only tracks", "[early_stopping]") {
    BestEpoch<Eigen::VectorXd> best;
    Eigen::VectorXd theta = Eigen::VectorXd::Ones(3);
    for (int epoch = 1; epoch <= 50; ++epoch) CHECK_FALSE(best.record(epoch, epoch == 7 ? 0.1 : 1.0, theta));
    CHECK(best.epoch() == 7);
    CHECK_FALSE(best.restore(theta));
    CHECK(theta == Eigen::VectorXd::Ones(3));
}

TEST_CASE("EarlyStopping refuses a patience of 0 and a negative min_delta", "[early_stopping]") {
    using Vector = Eigen::VectorXd;
    CHECK_THROWS_AS(BestEpoch<Vector>(EarlyStopping{0, 0.0}), descent::argument_error);
    CHECK_THROWS_WITH(BestEpoch<Vector>(EarlyStopping{0, 0.0}),
                      Contains("EarlyStopping: patience must be at least 1, got 0"));
    CHECK_THROWS_WITH(BestEpoch<Vector>(EarlyStopping{3, -0.5}),
                      Contains("EarlyStopping: min_delta must be non-negative and finite, got -0.5"));
}

TEST_CASE("fit stops when the validation loss rises and restores the best epoch's θ", "[early_stopping]") {
    // 20 training samples, a third of their labels flipped, a network that can memorise
    // them and a large α: the validation loss falls for a few epochs, then rises.
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(4, 20, 1);
    const auto y = labels_of(x, 3);
    const Eigen::MatrixXd x_val = descent::test::pseudo_random<double>(4, 100, 3);
    const auto y_val = labels_of(x_val, 0);
    Net net({4, 32, 2}, 5);
    descent::Sgd sgd(0.3);
    std::vector<Eigen::VectorXd> theta_after;  // θ at the end of each epoch
    descent::FitOptions options;
    options.epochs = 500;
    options.batch_size = 4;
    options.validate_on(x_val, y_val);
    options.early_stopping = EarlyStopping{10, 0.0};
    options.on_epoch = [&](const descent::EpochReport&) { theta_after.push_back(net.parameters()); };
    const auto reports = descent::fit(net, sgd, x, y, options);

    REQUIRE(reports.size() < 500);  // it stopped
    // The best epoch is the one of lowest validation loss, and training ran `patience` epochs past it.
    const auto lowest = std::min_element(reports.begin(), reports.end(), [](const auto& a, const auto& b) {
        return a.validation_loss < b.validation_loss;
    });
    const int best = reports.back().best_epoch;
    CHECK(best == lowest->epoch);
    CHECK(best > 1);  // the loss did fall before it rose (best is 6 with these seeds)
    CHECK(static_cast<int>(reports.size()) == best + 10);
    CHECK(reports.back().validation_loss > lowest->validation_loss);
    // θ is the copy made at the best epoch, not the last epoch's.
    CHECK(net.parameters() == theta_after[static_cast<std::size_t>(best - 1)]);
    CHECK(net.parameters() != theta_after.back());
    CHECK_THAT(static_cast<double>(net.loss(x_val, y_val)), WithinRel(lowest->validation_loss, 1e-12));
}

TEST_CASE("fit with a validation set reports its loss and accuracy every epoch", "[early_stopping]") {
    // 600 validation samples: more than one evaluation chunk (256).
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 20, 6);
    const auto y = descent::test::labels_cycling(20, 3);
    const Eigen::MatrixXd x_val = descent::test::pseudo_random<double>(3, 600, 7);
    const auto y_val = descent::test::labels_cycling(600, 3);
    Net net({3, 8, 3}, 8);
    descent::Sgd sgd(0.3);
    std::vector<double> loss_after, accuracy_after;
    descent::FitOptions options;
    options.epochs = 4;
    options.batch_size = 4;
    options.validate_on(x_val, y_val);
    options.on_epoch = [&](const descent::EpochReport&) {
        loss_after.push_back(net.loss(x_val, y_val));
        accuracy_after.push_back(net.accuracy(x_val, y_val));
    };
    const auto reports = descent::fit(net, sgd, x, y, options);
    REQUIRE(reports.size() == 4);  // no early stopping: every epoch runs
    int best = 0;
    double lowest = std::numeric_limits<double>::infinity();
    for (std::size_t e = 0; e < reports.size(); ++e) {
        CAPTURE(e);
        CHECK_THAT(reports[e].validation_loss, WithinRel(loss_after[e], 1e-12));
        CHECK(reports[e].validation_accuracy == accuracy_after[e]);
        if (reports[e].validation_loss < lowest) {
            lowest = reports[e].validation_loss;
            best = static_cast<int>(e) + 1;
        }
        CHECK(reports[e].best_epoch == best);
    }
}

TEST_CASE("The training accuracy is counted at θ before each step", "[early_stopping]") {
    // One batch per epoch: epoch k's figure is the accuracy of θ at the end of epoch k-1.
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 30, 9);
    const auto y = descent::test::labels_cycling(30, 3);
    Net net({3, 8, 3}, 10);
    std::vector<double> accuracy_before{net.accuracy(x, y)};
    descent::Sgd sgd(1.0);
    descent::FitOptions options;
    options.epochs = 5;
    options.batch_size = 30;
    options.on_epoch = [&](const descent::EpochReport&) { accuracy_before.push_back(net.accuracy(x, y)); };
    const auto reports = descent::fit(net, sgd, x, y, options);
    for (std::size_t e = 0; e < reports.size(); ++e) {
        CAPTURE(e);
        CHECK(reports[e].train_accuracy == accuracy_before[e]);
        CHECK(std::isnan(reports[e].validation_loss));  // no validation set
        CHECK(std::isnan(reports[e].validation_accuracy));
        CHECK(reports[e].best_epoch == 0);
    }
    CHECK(accuracy_before.back() > accuracy_before.front());  // it did learn something
}

TEST_CASE("A validation set may be a view: a block of rows is read with its stride", "[early_stopping]") {
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 10, 11);
    const auto y = descent::test::labels_cycling(10, 2);
    const Eigen::MatrixXd wide =
        descent::test::pseudo_random<double>(5, 50, 12);  // rows 0..2 are the features
    const Eigen::MatrixXd copy = wide.topRows(3);
    const auto y_val = descent::test::labels_cycling(50, 2);
    Net a({3, 4, 2}, 1), b({3, 4, 2}, 1);
    descent::Sgd sa(0.1), sb(0.1);
    descent::FitOptions view, copied;
    view.epochs = copied.epochs = 2;
    view.validate_on(wide.topRows(3), y_val);
    copied.validate_on(copy, y_val);
    const auto ra = descent::fit(a, sa, x, y, view);
    const auto rb = descent::fit(b, sb, x, y, copied);
    CHECK(ra.back().validation_loss == rb.back().validation_loss);
    CHECK(ra.back().validation_accuracy == rb.back().validation_accuracy);
}

TEST_CASE("fit refuses bad validation and early-stopping options before any step", "[early_stopping]") {
    const Eigen::MatrixXd x = descent::test::pseudo_random<double>(3, 10, 13);
    const auto y = descent::test::labels_cycling(10, 2);
    Net net({3, 4, 2}, 1);
    const Eigen::VectorXd theta = net.parameters();
    descent::Sgd sgd(0.1);
    descent::FitOptions options;

    SECTION("early stopping without a validation set") {
        options.early_stopping = EarlyStopping{};
        CHECK_THROWS_AS(descent::fit(net, sgd, x, y, options), descent::argument_error);
        CHECK_THROWS_WITH(descent::fit(net, sgd, x, y, options),
                          Contains("early stopping needs a validation set"));
    }
    SECTION("patience 0") {
        options.validate_on(x, y);
        options.early_stopping = EarlyStopping{0, 0.0};
        CHECK_THROWS_AS(descent::fit(net, sgd, x, y, options), descent::argument_error);
        CHECK_THROWS_WITH(descent::fit(net, sgd, x, y, options),
                          Contains("patience must be at least 1, got 0"));
    }
    SECTION("a validation set of the other scalar type") {
        const Eigen::MatrixXf xf = x.cast<float>();
        options.validate_on(xf, y);
        CHECK_THROWS_WITH(descent::fit(net, sgd, x, y, options),
                          Contains("the validation set holds float but the network is double"));
    }
    SECTION("a validation set of the wrong width") {
        const Eigen::MatrixXd wide = descent::test::pseudo_random<double>(4, 10, 14);
        options.validate_on(wide, y);
        CHECK_THROWS_AS(descent::fit(net, sgd, x, y, options), descent::shape_error);
        CHECK_THROWS_WITH(descent::fit(net, sgd, x, y, options),
                          Contains("fit (validation set): input has 4 rows"));
    }
    SECTION("validation labels out of range or too few") {
        const std::vector<int> bad = descent::test::labels_cycling(10, 3);
        options.validate_on(x, bad);
        CHECK_THROWS_AS(descent::fit(net, sgd, x, y, options), descent::label_error);
        const std::vector<int> few(9, 0);
        options.validate_on(x, few);
        CHECK_THROWS_AS(descent::fit(net, sgd, x, y, options), descent::shape_error);
    }
    CHECK(net.parameters() == theta);
}
