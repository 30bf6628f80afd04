// Dataset: subsets keep samples and their labels or targets together; split() is a
// seeded, reproducible partition, stratified by class when there are labels.
#include <algorithm>
#include <descent/data/dataset.hpp>
#include <vector>

#include "file_support.hpp"
#include "support.hpp"

using descent::test::message_of;

namespace {

// N samples of 2 features; feature 0 of sample t is t, so a sample can be traced.
template <class T>
descent::Dataset<T> numbered(Eigen::Index n) {
    descent::Dataset<T> data{descent::test::Matrix<T>(2, n), {}};
    for (Eigen::Index t = 0; t < n; ++t) {
        data.x(0, t) = T(t);
        data.x(1, t) = T(-0.5) * T(t);
        data.y.push_back(static_cast<int>(t % 3));
    }
    return data;
}

template <class T>
std::vector<int> ids(const descent::Dataset<T>& data) {
    std::vector<int> out;
    for (Eigen::Index t = 0; t < data.size(); ++t) out.push_back(static_cast<int>(data.x(0, t)));
    return out;
}

}  // namespace

TEMPLATE_TEST_CASE("subset takes the given samples with their labels, in order", "[dataset]", float, double) {
    const auto data = numbered<TestType>(5);
    const std::vector<Eigen::Index> pick{4, 1, 1};
    const auto part = data.subset(pick);
    CHECK(part.features() == 2);
    CHECK(ids(part) == std::vector<int>{4, 1, 1});
    CHECK(part.y == std::vector<int>{1, 1, 1});
    CHECK(part.x(1, 0) == TestType(-2));

    const std::vector<Eigen::Index> outside{0, 5};
    CHECK(message_of<descent::argument_error>([&] { data.subset(outside); }) ==
          "Dataset::subset: index 5 is outside [0, 5)");
    auto broken = data;
    broken.y.pop_back();
    CHECK(message_of<descent::shape_error>([&] { broken.subset(pick); }) ==
          "Dataset::subset: 5 samples (columns) but 4 labels");
}

TEMPLATE_TEST_CASE("split partitions the samples by seed, keeping each part in order", "[dataset]", float,
                   double) {
    const auto data = numbered<TestType>(10);
    const auto [train, validation] = descent::split(data, 3, 42, descent::Stratify::none);
    // Expected parts computed independently: mt19937_64 and the same
    // Fisher-Yates written out in Python.
    CHECK(ids(train) == std::vector<int>{0, 2, 3, 4, 5, 6, 8});
    CHECK(ids(validation) == std::vector<int>{1, 7, 9});
    CHECK(validation.y == std::vector<int>{1, 1, 0});
    CHECK(validation.x(1, 2) == TestType(-4.5));
    CHECK(ids(descent::split(data, 3, 7, descent::Stratify::none).validation) == std::vector<int>{0, 4, 7});
}

TEST_CASE("split: the same seed gives the same split, another seed another one", "[dataset]") {
    const auto data = numbered<float>(1000);
    const auto a = descent::split(data, 200, 2024);
    const auto b = descent::split(data, 200, 2024);
    const auto c = descent::split(data, 200, 2025);
    CHECK(ids(a.validation) == ids(b.validation));
    CHECK(ids(a.train) == ids(b.train));
    CHECK(ids(a.validation) != ids(c.validation));
    REQUIRE(a.train.size() == 800);
    REQUIRE(a.validation.size() == 200);
    // together, every sample exactly once
    auto all = ids(a.train);
    const auto held = ids(a.validation);
    all.insert(all.end(), held.begin(), held.end());
    std::sort(all.begin(), all.end());
    for (int t = 0; t < 1000; ++t) CHECK(all[static_cast<std::size_t>(t)] == t);
}

TEST_CASE("split rejects a validation size that leaves a part empty", "[dataset]") {
    const auto data = numbered<double>(4);
    CHECK(message_of<descent::argument_error>([&] { descent::split(data, 0, 1); }) ==
          "split: validation size 0 is outside [1, 3] for a data set of 4 samples");
    CHECK_THROWS_AS(descent::split(data, 4, 1), descent::argument_error);
    CHECK_THROWS_AS(descent::split(data, -1, 1), descent::argument_error);
    auto broken = data;
    broken.y.push_back(0);
    CHECK_THROWS_AS(descent::split(broken, 1, 1), descent::shape_error);
}

TEST_CASE("classes() is 1 + the largest label, class_counts() counts each", "[dataset]") {
    descent::Dataset<float> data{descent::test::Matrix<float>::Zero(1, 5), {2, 0, 2, 3, 2}};
    CHECK(data.has_labels());
    CHECK_FALSE(data.has_targets());
    CHECK(data.classes() == 4);
    CHECK(data.class_counts() == std::vector<Eigen::Index>{1, 0, 3, 1});
    // labels numbered from 1 show as an empty class 0
    descent::Dataset<float> one_based{descent::test::Matrix<float>::Zero(1, 3), {1, 2, 3}};
    CHECK(one_based.class_counts().front() == 0);

    descent::Dataset<float> regression{
        descent::test::Matrix<float>::Zero(1, 2), {}, descent::test::Matrix<float>::Ones(1, 2)};
    CHECK(message_of<descent::argument_error>([&] { regression.classes(); }) ==
          "Dataset::classes: the data set has no labels");
    descent::Dataset<float> negative{descent::test::Matrix<float>::Zero(1, 2), {0, -1}};
    CHECK(message_of<descent::label_error>([&] { negative.classes(); }) ==
          "Dataset::classes: label -1 of sample 1 is negative; labels are classes 0, 1, 2, ...");
}

TEMPLATE_TEST_CASE("subset and split carry real-valued targets and names with their samples", "[dataset]",
                   float, double) {
    auto data = numbered<TestType>(10);
    data.y.clear();
    data.targets.resize(2, 10);
    for (Eigen::Index t = 0; t < 10; ++t) {
        data.targets(0, t) = TestType(100 + t);
        data.targets(1, t) = TestType(-t);
    }
    data.feature_names = {"t", "-t/2"};
    data.target_names = {"100+t", "-t"};
    REQUIRE(data.has_targets());
    const std::vector<Eigen::Index> pick{7, 2};
    const auto part = data.subset(pick);
    CHECK(part.y.empty());
    REQUIRE(part.targets.cols() == 2);
    CHECK(part.targets(0, 0) == TestType(107));
    CHECK(part.targets(1, 1) == TestType(-2));
    CHECK(part.feature_names == data.feature_names);
    CHECK(part.target_names == data.target_names);

    // Real-valued targets are split plainly (there is no class to stratify by): the
    // parts of the unstratified test above, each sample with its own targets.
    const auto [train, validation] = descent::split(data, 3, 42);
    CHECK(ids(validation) == std::vector<int>{1, 7, 9});
    CHECK(ids(train) == std::vector<int>{0, 2, 3, 4, 5, 6, 8});
    for (const auto* set : {&train, &validation})
        for (Eigen::Index k = 0; k < set->size(); ++k) {
            CHECK(set->targets(0, k) == TestType(100) + set->x(0, k));
            CHECK(set->targets(1, k) == -set->x(0, k));
        }
}

TEST_CASE("a data set's labels and targets must fit its samples", "[dataset]") {
    auto data = numbered<double>(4);
    data.targets = descent::test::Matrix<double>::Zero(1, 4);
    CHECK(message_of<descent::argument_error>([&] { data.check_consistent("here"); }) ==
          "here: the data set holds both labels and real-valued targets; keep one of them");
    data.y.clear();
    data.targets = descent::test::Matrix<double>::Zero(1, 3);
    CHECK(message_of<descent::shape_error>([&] { data.check_consistent("here"); }) ==
          "here: 4 samples (columns) but targets for 3");
    data.targets.resize(0, 0);
    data.check_consistent("here");  // features alone are a data set too
    data.feature_names = {"a"};
    CHECK(message_of<descent::shape_error>([&] { data.check_consistent("here"); }) ==
          "here: 1 feature names for 2 features (rows)");
}

TEST_CASE("class quotas: ⌊V n_c / N⌋, the rest to the largest remainders", "[dataset]") {
    // iris: 3 x 50, 38 held out: 12.67 each, the 2 left over to classes 0 and 1 (a tie)
    CHECK(descent::detail::class_quotas({50, 50, 50}, 38, 150) == std::vector<Eigen::Index>{13, 13, 12});
    // 6, 4, 2 of 12, 5 held out: 2.5, 1.67, 0.83 -> 2, 1, 0 and 2 left for remainders 10 > 8 > 6
    CHECK(descent::detail::class_quotas({6, 4, 2}, 5, 12) == std::vector<Eigen::Index>{2, 2, 1});
    CHECK(descent::detail::class_quotas({6, 0, 4}, 5, 10) == std::vector<Eigen::Index>{3, 0, 2});
}

TEST_CASE("split stratifies by class: each class keeps its share, seeded", "[dataset]") {
    descent::Dataset<float> data{descent::test::Matrix<float>(1, 12), {0, 1, 0, 2, 0, 1, 0, 1, 0, 2, 0, 1}};
    for (Eigen::Index t = 0; t < 12; ++t) data.x(0, t) = float(t);
    // Expected parts from an independent Python model of mt19937_64, the Fisher-Yates
    // shuffle and the quotas (the same model reproduces the unstratified cases above).
    const auto [train, validation] = descent::split(data, 6, 42);
    CHECK(ids(validation) == std::vector<int>{1, 2, 4, 7, 8, 9});
    CHECK(ids(train) == std::vector<int>{0, 3, 5, 6, 10, 11});
    CHECK(validation.class_counts() == std::vector<Eigen::Index>{3, 2, 1});
    CHECK(train.class_counts() == std::vector<Eigen::Index>{3, 2, 1});
    const auto five = descent::split(data, 5, 3);
    CHECK(ids(five.validation) == std::vector<int>{0, 3, 4, 5, 7});
    CHECK(five.validation.class_counts() == std::vector<Eigen::Index>{2, 2, 1});

    // A larger set: every class within one sample of its share, in both parts.
    descent::Dataset<float> big{descent::test::Matrix<float>::Zero(1, 1000), {}};
    for (int t = 0; t < 1000; ++t) big.y.push_back(t < 700 ? 0 : t < 950 ? 1 : 2);  // 700, 250, 50
    const auto [big_train, big_validation] = descent::split(big, 0.25, 11);
    CHECK(big_validation.class_counts() == std::vector<Eigen::Index>{175, 63, 12});
    CHECK(big_train.class_counts() == std::vector<Eigen::Index>{525, 187, 38});
    CHECK(ids(descent::split(big, 0.25, 11).validation) == ids(big_validation));
    CHECK(descent::split(big, 0.25, 12).validation.y.size() == 250);
}

TEST_CASE("split by a fraction holds out ⌈f N⌉ samples", "[dataset]") {
    const auto data = numbered<double>(150);
    CHECK(descent::split(data, 0.25, 1).validation.size() == 38);  // 37.5 rounded up, as scikit-learn
    CHECK(descent::split(numbered<double>(30), 0.1, 1).validation.size() ==
          3);  // not 4 for 3.0000000000000004
    CHECK(descent::split(data, 0.5f, 1).train.size() == 75);
    CHECK(message_of<descent::argument_error>([&] { descent::split(data, 1.0, 1); }) ==
          "split: validation fraction must be in (0, 1), got 1");
    CHECK_THROWS_AS(descent::split(data, 0.0, 1), descent::argument_error);
    CHECK_THROWS_AS(descent::split(data, std::nan(""), 1), descent::argument_error);
    CHECK(message_of<descent::argument_error>([&] { descent::split(numbered<double>(4), 0.9999, 1); }) ==
          "split: a validation fraction of 0.9999 of 4 samples leaves the training part empty");
}
