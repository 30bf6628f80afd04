// CSV reader: labels and features land where they belong; every malformed file
// is a data_error that names the file and the line.
#include <descent/data/csv.hpp>

#include <string>
#include <vector>

#include "file_support.hpp"
#include "support.hpp"

using Catch::Matchers::Contains;
using descent::CsvOptions;
using descent::test::message_of;
using descent::test::TempDir;

TEMPLATE_TEST_CASE("CSV rows become columns: labels from the first column by default", "[csv]", float,
                   double) {
    TempDir dir;
    const auto file = dir.write("f.csv", "2,0.5,-1.25,3e2\n0,1,2,3\n1,-0,0.1,7\n");
    const auto data = descent::read_csv<TestType>(file);
    REQUIRE(data.features() == 3);
    REQUIRE(data.size() == 3);
    CHECK(data.y == std::vector<int>{2, 0, 1});
    CHECK(data.x(0, 0) == TestType(0.5));
    CHECK(data.x(1, 0) == TestType(-1.25));
    CHECK(data.x(2, 0) == TestType(300));
    CHECK(data.x(2, 1) == TestType(3));
    // from_chars rounds correctly: "0.1" is the nearest TestType to 0.1, as the literal is
    CHECK(data.x(1, 2) == TestType(0.1));
    CHECK(data.x(2, 2) == TestType(7));
}

TEST_CASE("CSV options: label column from the end, a header, spaces, CRLF, another delimiter", "[csv]") {
    TempDir dir;
    SECTION("last column, autodetected header, CRLF, padding, trailing blank lines") {
        const auto file =
            dir.write("iris.csv", "sepal, petal ,species\r\n 5.1 ,1.4, 0\r\n6.3,\t4.9,2\r\n\r\n\n");
        const auto data = descent::read_csv<double>(file, {.label_column = -1, .classes = 3});
        REQUIRE(data.size() == 2);
        REQUIRE(data.features() == 2);
        CHECK(data.y == std::vector<int>{0, 2});
        CHECK(data.x(0, 0) == 5.1);
        CHECK(data.x(1, 0) == 1.4);
        CHECK(data.x(1, 1) == 4.9);
    }
    SECTION("a middle label column and semicolons") {
        const auto file = dir.write("m.csv", "1;4;2\n3;5;6\n");
        const auto data = descent::read_csv<float>(file, {.label_column = 1, .delimiter = ';'});
        CHECK(data.y == std::vector<int>{4, 5});
        CHECK(data.x(0, 0) == 1.0f);
        CHECK(data.x(1, 0) == 2.0f);
        CHECK(data.x(0, 1) == 3.0f);
        CHECK(data.x(1, 1) == 6.0f);
    }
    SECTION("a header of numbers is data unless declared") {
        const auto file = dir.write("n.csv", "0,1,2\n1,0.5,0.25\n");
        CHECK(descent::read_csv<float>(file).size() == 2);
        const auto declared = descent::read_csv<float>(file, {.header = CsvOptions::Header::present});
        CHECK(declared.size() == 1);
        CHECK(declared.y == std::vector<int>{1});
        const auto named = dir.write("h.csv", "y,a,b\n1,0.5,0.25\n");
        CHECK_THAT(message_of<descent::data_error>(
                       [&] { descent::read_csv<float>(named, {.header = CsvOptions::Header::absent}); }),
                   Contains("label \"y\" at line 1 of"));
    }
    SECTION("a UTF-8 byte order mark is skipped") {
        const auto file = dir.write("bom.csv", "\xEF\xBB\xBFy,a\n3,1.5\n");
        const auto data = descent::read_csv<float>(file);
        CHECK(data.y == std::vector<int>{3});
        CHECK(data.x(0, 0) == 1.5f);
    }
}

TEST_CASE("malformed CSV files name the file and the line", "[csv]") {
    TempDir dir;
    auto error_of = [&](const std::string& text, CsvOptions options = {}) {
        const auto file = dir.write("f.csv", text);
        return message_of<descent::data_error>([&] { descent::read_csv<float>(file, options); });
    };
    const std::string f = (dir / "f.csv").string();

    CHECK(error_of("") == f + " is empty");
    CHECK(error_of("\n\r\n") == f + " is empty");
    CHECK(error_of("label,a,b\n") == f + " has a header line but no data");
    CHECK(error_of("1,2,3\n4,5\n") == "line 2 of " + f + " has 2 fields, expected 3 like line 1");
    CHECK(error_of("y,a,b\n1,2,3\n4,5,6,7\n") == "line 3 of " + f + " has 4 fields, expected 3 like line 1");
    CHECK(error_of("1,2,3\n\n4,5,6\n") == "line 2 of " + f + " is blank");
    // a first line with a non-number is a header, unless there is none
    CHECK(error_of("1,2,abc\n", {.header = CsvOptions::Header::absent}) ==
          "field 3 at line 1 of " + f + " is \"abc\", not a number");
    CHECK(error_of("1,2,3\n1,2,3x\n") == "field 3 at line 2 of " + f + " is \"3x\", not a number");
    CHECK(error_of("1,2,3\n1,,3\n") == "field 2 at line 2 of " + f + " is empty, not a number");
    CHECK(error_of("1,2,3\n1,+2,3\n") == "field 2 at line 2 of " + f + " is \"+2\", not a number");
    CHECK(error_of("1,2,3\n1,inf,3\n") == "field 2 at line 2 of " + f + " is \"inf\", not a finite number");
    CHECK(error_of("1,2,3\n1,nan,3\n") == "field 2 at line 2 of " + f + " is \"nan\", not a finite number");
    CHECK(error_of("1,2,3\n1,1e99,3\n") ==
          "field 2 at line 2 of " + f + " is \"1e99\", out of the range of float");
    CHECK(error_of("1,2,3\n1.5,2,3\n") == "label \"1.5\" at line 2 of " + f + " is not an integer");
    CHECK(error_of("1,2,3\n-1,2,3\n") ==
          "label -1 at line 2 of " + f + " is negative; labels are classes 0, 1, 2, ...");
    CHECK(error_of("9,0\n10,0\n", {.classes = 10}) == "label 10 at line 2 of " + f + " is outside [0, 10)");
    CHECK(error_of("5\n") ==
          "only 1 field at line 1 of " + f + ": a label and at least one feature are needed");
    CHECK(error_of("1,2,3\n", {.label_column = 3}) ==
          "label column 3 is outside the 3 fields at line 1 of " + f);
    CHECK(error_of("1,2,3\n", {.label_column = -4}) ==
          "label column -4 is outside the 3 fields at line 1 of " + f);
}

TEST_CASE("a CSV label of 10 passes without a class count and fails with 10 classes", "[csv]") {
    TempDir dir;
    const auto file = dir.write("y.csv", "10,0.5\n");
    CHECK(descent::read_csv<double>(file).y == std::vector<int>{10});
    CHECK_THROWS_AS(descent::read_csv<double>(file, {.classes = 10}), descent::data_error);
    CHECK(descent::read_csv<double>(file, {.classes = 11}).y == std::vector<int>{10});
}

TEST_CASE("a missing CSV file is an io_error naming it and the reason", "[csv]") {
    TempDir dir;
    const auto missing = dir / "nope.csv";
    CHECK(message_of<descent::io_error>([&] { descent::read_csv<float>(missing); }) ==
          "cannot open " + missing.string() + ": No such file or directory");
    CHECK(message_of<descent::io_error>([&] { descent::read_csv<float>(dir.path()); }) ==
          "cannot read " + dir.path().string() + ": Is a directory");
}
