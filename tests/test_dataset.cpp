// Dataset: subsets keep samples and labels together; split() is a seeded,
// reproducible partition.
#include <descent/data/dataset.hpp>

#include <algorithm>
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
    const auto [train, validation] = descent::split(data, 3, 42);
    // Expected parts computed independently: mt19937_64 and the same
    // Fisher-Yates written out in Python.
    CHECK(ids(train) == std::vector<int>{0, 2, 3, 4, 5, 6, 8});
    CHECK(ids(validation) == std::vector<int>{1, 7, 9});
    CHECK(validation.y == std::vector<int>{1, 1, 0});
    CHECK(validation.x(1, 2) == TestType(-4.5));
    CHECK(ids(descent::split(data, 3, 7).validation) == std::vector<int>{0, 4, 7});
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
