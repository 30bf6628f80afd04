// The CSV reader on the data files scikit-learn ships (Debian's python3-sklearn), each
// in its own layout: a first line of counts and class names (iris, wine, breast
// cancer), a line of counts before a header of quoted names (boston), whitespace-
// separated gzip files with the targets in a file of their own (diabetes).
//
// The files may be missing (no python3-sklearn): then every test case ends the process
// with the exit code tests/CMakeLists.txt declares as SKIP_RETURN_CODE, so that ctest
// shows it as skipped, never as passed. DESCENT_SKLEARN_DATA names another directory.
// Expected values were read from the files with Python (csv, numpy.loadtxt).
#include <cstdlib>
#include <descent/data/csv.hpp>
#include <descent/data/dataset.hpp>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "support.hpp"

using descent::CsvOptions;
using Target = CsvOptions::Target;

namespace {

std::filesystem::path data_dir() {
    const char* dir = std::getenv("DESCENT_SKLEARN_DATA");
    return dir ? dir : "/usr/lib/python3/dist-packages/sklearn/datasets/data";
}

// The path of one of the files, or the end of this test process as skipped.
std::filesystem::path sklearn_file(const std::string& name) {
    const auto path = data_dir() / name;
    if (!std::filesystem::exists(path)) {
        descent::test::skip(path.string() + " not found (install python3-sklearn or set DESCENT_SKLEARN_DATA)");
    }
    return path;
}

}  // namespace

TEMPLATE_TEST_CASE("scikit-learn's iris.csv: 150 samples, 4 features, 3 classes of 50", "[csv][sklearn]",
                   float, double) {
    const auto iris =
        descent::read_csv<TestType>(sklearn_file("iris.csv"), {.target_columns = {-1}, .classes = 3});
    REQUIRE(iris.size() == 150);
    REQUIRE(iris.features() == 4);
    CHECK(iris.classes() == 3);
    CHECK(iris.class_counts() == std::vector<Eigen::Index>{50, 50, 50});
    CHECK(iris.x(0, 0) == TestType(5.1));
    CHECK(iris.x(2, 149) == TestType(5.1));
    CHECK(iris.y.front() == 0);
    CHECK(iris.y.back() == 2);
    CHECK_THAT(double(iris.x.sum()), Catch::Matchers::WithinRel(2078.7, 1e-5));
    CHECK(iris.feature_names.empty());  // the first line holds counts, not 5 names

    // a 25% test split, stratified: 38 samples, 13, 13 and 12 of the classes
    const auto [train, test] = descent::split(iris, 0.25, 1);
    CHECK(test.size() == 38);
    CHECK(test.class_counts() == std::vector<Eigen::Index>{13, 13, 12});
    CHECK(train.class_counts() == std::vector<Eigen::Index>{37, 37, 38});
}

TEST_CASE("scikit-learn's wine_data.csv: a first line of 5 fields, then 14", "[csv][sklearn]") {
    const auto wine = descent::read_csv<double>(sklearn_file("wine_data.csv"), {.target_columns = {-1}});
    REQUIRE(wine.size() == 178);
    REQUIRE(wine.features() == 13);
    CHECK(wine.class_counts() == std::vector<Eigen::Index>{59, 71, 48});
    CHECK(wine.x(0, 0) == 14.23);
    CHECK(wine.x(12, 0) == 1065.0);
    CHECK_THAT(wine.x.sum(), Catch::Matchers::WithinRel(159975.295999, 1e-12));
}

TEST_CASE("scikit-learn's breast_cancer.csv: 569 samples, 30 features, 2 classes", "[csv][sklearn]") {
    const auto cancer =
        descent::read_csv<double>(sklearn_file("breast_cancer.csv"), {.target_columns = {-1}, .classes = 2});
    REQUIRE(cancer.size() == 569);
    REQUIRE(cancer.features() == 30);
    CHECK(cancer.class_counts() == std::vector<Eigen::Index>{212, 357});  // malignant, benign
    CHECK(cancer.x(0, 0) == 17.99);
    CHECK(cancer.x(2, 568) == 47.92);
    CHECK_THAT(cancer.x.sum(), Catch::Matchers::WithinRel(1056474.4596356, 1e-12));
}

TEST_CASE("scikit-learn's diabetes: features and targets from two whitespace-separated .gz files",
          "[csv][sklearn]") {
    const auto x = descent::read_csv<double>(sklearn_file("diabetes_data_raw.csv.gz"),
                                             {.target = Target::none, .delimiter = ' '});
    const auto y = descent::read_csv<double>(sklearn_file("diabetes_target.csv.gz"),
                                             {.target = Target::real, .delimiter = ' '});
    REQUIRE(x.size() == 442);
    REQUIRE(x.features() == 10);
    REQUIRE(y.size() == 442);
    REQUIRE(y.features() == 0);
    REQUIRE(y.targets.rows() == 1);
    CHECK(x.x(2, 0) == 32.1);
    CHECK(x.x(8, 0) == 4.8598);
    CHECK_THAT(x.x.sum(), Catch::Matchers::WithinRel(276404.2336, 1e-12));
    CHECK(y.targets(0, 0) == 151.0);
    CHECK(y.targets(0, 2) == 141.0);
    CHECK(y.targets.sum() == 67243.0);

    // put together, split with the targets following their samples
    const descent::Dataset<double> diabetes{x.x, {}, y.targets};
    const auto [train, test] = descent::split(diabetes, 0.25, 7);
    CHECK(test.size() == 111);
    CHECK(train.size() == 331);
    CHECK(train.targets.sum() + test.targets.sum() == 67243.0);
}

TEST_CASE("scikit-learn's boston_house_prices.csv: counts, then a header of quoted names", "[csv][sklearn]") {
    const auto boston =
        descent::read_csv<double>(sklearn_file("boston_house_prices.csv"),
                                  {.target = Target::real, .target_columns = {"MEDV"}, .skip_rows = 1});
    REQUIRE(boston.size() == 506);
    REQUIRE(boston.features() == 13);
    CHECK(boston.feature_names.front() == "CRIM");
    CHECK(boston.feature_names.back() == "LSTAT");
    CHECK(boston.target_names == std::vector<std::string>{"MEDV"});
    CHECK(boston.targets(0, 0) == 24.0);
    CHECK(boston.targets(0, 505) == 11.9);
    CHECK(boston.x(0, 0) == 0.00632);
}

TEST_CASE("scikit-learn's digits.csv.gz: 1797 images of 64 pixels, 10 classes", "[csv][sklearn]") {
    const auto digits =
        descent::read_csv<float>(sklearn_file("digits.csv.gz"), {.target_columns = {-1}, .classes = 10});
    REQUIRE(digits.size() == 1797);
    REQUIRE(digits.features() == 64);
    CHECK(digits.class_counts() ==
          std::vector<Eigen::Index>{178, 182, 177, 183, 181, 182, 181, 179, 174, 180});
}
