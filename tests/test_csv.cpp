// CSV reader: labels, targets and features land where they belong; every malformed
// file is a data_error that names the file, the line and the field.
#include <zlib.h>

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
        const auto data = descent::read_csv<double>(file, {.target_columns = {-1}, .classes = 3});
        REQUIRE(data.size() == 2);
        REQUIRE(data.features() == 2);
        CHECK(data.y == std::vector<int>{0, 2});
        CHECK(data.x(0, 0) == 5.1);
        CHECK(data.x(1, 0) == 1.4);
        CHECK(data.x(1, 1) == 4.9);
    }
    SECTION("a middle label column and semicolons") {
        const auto file = dir.write("m.csv", "1;4;2\n3;5;6\n");
        const auto data = descent::read_csv<float>(file, {.target_columns = {1}, .delimiter = ';'});
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
                   Contains("label \"y\" in field 1 at line 1 of"));
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
    // the count is the first data line's: a header line may have any (scikit-learn's do)
    CHECK(error_of("y,a,b\n1,2,3\n4,5,6,7\n") == "line 3 of " + f + " has 4 fields, expected 3 like line 2");
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
    CHECK(error_of("1,2,3\n1.5,2,3\n") ==
          "label \"1.5\" in field 1 at line 2 of " + f +
              " is not an integer (real-valued targets: CsvOptions::Target::real)");
    CHECK(error_of("1,2,3\n-1,2,3\n") ==
          "label -1 in field 1 at line 2 of " + f + " is negative; labels are classes 0, 1, 2, ...");
    CHECK(error_of("9,0\n10,0\n", {.classes = 10}) ==
          "label 10 in field 1 at line 2 of " + f + " is outside [0, 10)");
    CHECK(error_of("1,2,3\n", {.target_columns = {3}}) ==
          "label column 3 is outside the 3 fields at line 1 of " + f);
    CHECK(error_of("1,2,3\n", {.target_columns = {-4}}) ==
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

// ---------------------------------------------------------------------------
// CSV as people have it: headers of another width, skipped lines, quotes, targets
// by name, real-valued targets, features alone, whitespace, gzip.

using Target = CsvOptions::Target;

TEST_CASE("a header line may have another field count than the data (scikit-learn's layout)", "[csv]") {
    TempDir dir;
    // iris.csv's first line: the sample and feature counts, then the class names.
    const auto file =
        dir.write("iris.csv", "3,2,setosa,versicolor,virginica\n5.1,3.5,0\n4.9,3.0,1\n6.3,3.3,2\n");
    const auto data = descent::read_csv<double>(file, {.target_columns = {-1}, .classes = 3});
    REQUIRE(data.size() == 3);
    REQUIRE(data.features() == 2);
    CHECK(data.y == std::vector<int>{0, 1, 2});
    CHECK(data.x(1, 1) == 3.0);
    CHECK(data.x(0, 2) == 6.3);
    // its names cannot be matched to columns, so there are none
    CHECK(data.feature_names.empty());
    CHECK(data.target_names.empty());
    CHECK_FALSE(data.has_targets());

    // Of the data's width, a header holding numbers names nothing either (the real iris.csv
    // has 5 fields in both), unless declared present.
    const auto same = dir.write("same.csv", "2,1,setosa\n5.1,3.5,0\n4.9,3.0,1\n");
    CHECK(descent::read_csv<double>(same, {.target_columns = {-1}}).feature_names.empty());
    CHECK(message_of<descent::data_error>([&] {
              descent::read_csv<double>(same, {.target_columns = {"setosa"}});
          }) == "label column \"setosa\" is given by name, but the header (line 1 of " + same.string() +
                    ") holds numbers, not only names (CsvOptions::header = present takes it as names)");
    const auto years = dir.write("years.csv", "2019,2020,y\n5.1,3.5,0\n");
    const auto named =
        descent::read_csv<double>(years, {.target_columns = {"y"}, .header = CsvOptions::Header::present});
    CHECK(named.feature_names == std::vector<std::string>{"2019", "2020"});
}

TEST_CASE("skip_rows drops lines before the header, which names the columns", "[csv]") {
    TempDir dir;
    // boston_house_prices.csv's layout: counts, then quoted names, then the data.
    const auto file = dir.write("b.csv",
                                "3,2,,\n\"CRIM\",\"ZN\",\"AGE\",\"MEDV\"\n0.1,18,65.2,24\n0.2,0,78.9,21.6\n"
                                "0.3,0,61.1,34.7\n");
    const auto data =
        descent::read_csv<double>(file, {.target = Target::real, .target_columns = {"MEDV"}, .skip_rows = 1});
    REQUIRE(data.size() == 3);
    REQUIRE(data.features() == 3);
    CHECK(data.feature_names == std::vector<std::string>{"CRIM", "ZN", "AGE"});
    CHECK(data.target_names == std::vector<std::string>{"MEDV"});
    CHECK(data.y.empty());
    REQUIRE(data.targets.rows() == 1);
    REQUIRE(data.targets.cols() == 3);
    CHECK(data.targets(0, 0) == 24.0);
    CHECK(data.targets(0, 1) == 21.6);
    CHECK(data.targets(0, 2) == 34.7);
    CHECK(data.x(2, 1) == 78.9);

    // Without skip_rows the counts line is the header and the names line is data:
    // the message suggests what to do.
    const std::string f = file.string();
    CHECK(message_of<descent::data_error>([&] {
              descent::read_csv<double>(file, {.target = Target::real, .target_columns = {-1}});
          }) == "field 1 at line 2 of " + f +
                    " is \"CRIM\", not a number (a second header line? CsvOptions::skip_rows drops lines "
                    "before the header)");
    CHECK(message_of<descent::data_error>([&] { descent::read_csv<double>(file, {.skip_rows = 9}); }) ==
          f + " has 5 lines, fewer than the 9 to skip (CsvOptions::skip_rows)");
    CHECK(message_of<descent::data_error>([&] { descent::read_csv<double>(file, {.skip_rows = 5}); }) ==
          f + " has no data after the 5 lines skipped (CsvOptions::skip_rows)");
}

TEST_CASE("several real-valued targets by name and index, in the order given", "[csv]") {
    TempDir dir;
    const auto file = dir.write("r.csv", "a,y1,b,y2\n1,10,2,-20\n3,30,4,-40\n");
    const auto data = descent::read_csv<float>(file, {.target = Target::real, .target_columns = {-1, "y1"}});
    REQUIRE(data.features() == 2);
    REQUIRE(data.targets.rows() == 2);
    CHECK(data.feature_names == std::vector<std::string>{"a", "b"});
    CHECK(data.target_names == std::vector<std::string>{"y2", "y1"});
    CHECK(data.targets(0, 0) == -20.0f);
    CHECK(data.targets(1, 0) == 10.0f);
    CHECK(data.targets(0, 1) == -40.0f);
    CHECK(data.targets(1, 1) == 30.0f);
    CHECK(data.x(0, 1) == 3.0f);
    CHECK(data.x(1, 1) == 4.0f);

    // a label column by name; a column left out
    const auto ids = dir.write("ids.csv", "id,x,species\n17,0.5,2\n18,1.5,0\n");
    const auto labelled =
        descent::read_csv<float>(ids, {.target_columns = {"species"}, .ignore_columns = {"id"}});
    CHECK(labelled.y == std::vector<int>{2, 0});
    REQUIRE(labelled.features() == 1);
    CHECK(labelled.feature_names == std::vector<std::string>{"x"});
    CHECK(labelled.target_names == std::vector<std::string>{"species"});
    CHECK(labelled.x(0, 1) == 1.5f);
}

TEST_CASE("a features-only file, to predict from", "[csv]") {
    TempDir dir;
    const auto file = dir.write("x.csv", "a,b\n1,2\n3,4\n5,6\n");
    const auto data = descent::read_csv<double>(file, {.target = Target::none});
    CHECK(data.size() == 3);
    CHECK(data.features() == 2);
    CHECK_FALSE(data.has_labels());
    CHECK_FALSE(data.has_targets());
    CHECK(data.x(1, 2) == 6.0);
    CHECK(data.feature_names == std::vector<std::string>{"a", "b"});
    // A file of targets alone (scikit-learn keeps diabetes' in a file of its own): no features.
    const auto y = dir.write("y.csv", "1.51e+02\n75\n");
    const auto targets = descent::read_csv<double>(y, {.target = Target::real});
    CHECK(targets.size() == 2);
    CHECK(targets.features() == 0);
    CHECK(targets.targets(0, 0) == 151.0);
    CHECK(descent::read_csv<float>(dir.write("l.csv", "5\n")).y == std::vector<int>{5});
}

TEST_CASE("quoted fields (RFC 4180): delimiters, doubled quotes and line ends inside", "[csv]") {
    TempDir dir;
    const auto file = dir.write("q.csv",
                                "\"first, second\",\"say \"\"hi\"\"\",\"two\nlines\",y\r\n"
                                "\"1.5\", 2 ,\"3\",0\r\n"
                                " \"4\" ,5,6,\"1\"\r\n");
    const auto data = descent::read_csv<double>(file, {.target_columns = {"y"}});
    REQUIRE(data.size() == 2);
    CHECK(data.feature_names == std::vector<std::string>{"first, second", "say \"hi\"", "two\nlines"});
    CHECK(data.x(0, 0) == 1.5);
    CHECK(data.x(1, 0) == 2.0);
    CHECK(data.x(0, 1) == 4.0);
    CHECK(data.y == std::vector<int>{0, 1});
    // a quoted header name with a line end in it moves the lines that follow
    const auto late = dir.write("late.csv", "\"a\nb\",y\n1,0\n2,x\n");
    CHECK(message_of<descent::data_error>([&] {
              descent::read_csv<double>(late, {.target_columns = {1}});
          }) == "label \"x\" in field 2 (\"y\") at line 4 of " + late.string() +
                    " is not an integer (classes are numbered 0, 1, 2, ...)");
    // another quote character, a quoted field holding the delimiter
    const auto single = dir.write("s.csv", "'a;b';y\n1;'0'\n");
    const auto other =
        descent::read_csv<float>(single, {.target_columns = {-1}, .delimiter = ';', .quote = '\''});
    CHECK(other.feature_names == std::vector<std::string>{"a;b"});
    CHECK(other.y == std::vector<int>{0});
}

TEST_CASE("a space delimiter splits at runs of spaces and tabs", "[csv]") {
    TempDir dir;
    // diabetes_data_raw.csv's layout, padded and with a CRLF
    const auto file = dir.write("d.txt", "59 2  32.1\t101.0\r\n  48 1 21.6 87 \n");
    const auto data =
        descent::read_csv<double>(file, {.target = Target::real, .target_columns = {-1}, .delimiter = ' '});
    REQUIRE(data.size() == 2);
    REQUIRE(data.features() == 3);
    CHECK(data.targets(0, 0) == 101.0);
    CHECK(data.targets(0, 1) == 87.0);
    CHECK(data.x(2, 0) == 32.1);
    CHECK(data.x(0, 1) == 48.0);
    const auto quoted = dir.write("q.txt", "\"a b\" c\n1 0\n");
    CHECK(descent::read_csv<double>(quoted, {.delimiter = ' '}).feature_names ==
          std::vector<std::string>{"c"});
}

TEST_CASE("a gzip-compressed CSV file is read as it is", "[csv]") {
    TempDir dir;
    const std::string text = "y,a,b\n1,0.5,2\n0,-1,3\n";
    const auto file = dir / "f.csv.gz";
    gzFile out = gzopen(file.string().c_str(), "wb");
    REQUIRE(out != nullptr);
    REQUIRE(gzwrite(out, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
    REQUIRE(gzclose(out) == Z_OK);
    const auto data = descent::read_csv<float>(file);
    CHECK(data.y == std::vector<int>{1, 0});
    CHECK(data.x(1, 1) == 3.0f);
    // a damaged stream is a data_error naming the file
    auto bytes = descent::test::contents(file);
    const auto cut = dir.write("cut.csv.gz", bytes.substr(0, bytes.size() - 12));
    CHECK_THAT(message_of<descent::data_error>([&] { descent::read_csv<float>(cut); }),
               Contains(cut.string() + ": truncated gzip data"));
}

TEST_CASE("CSV errors name the file, the line and the field, with what was expected", "[csv]") {
    TempDir dir;
    auto error_of = [&](const std::string& text, CsvOptions options = {}) {
        const auto file = dir.write("f.csv", text);
        return message_of<descent::data_error>([&] { descent::read_csv<float>(file, options); });
    };
    const std::string f = (dir / "f.csv").string();

    // the field's name, when the header gives one
    CHECK(error_of("y,petal,sepal\n1,2,3\n0,2,3kg\n") ==
          "field 3 (\"sepal\") at line 3 of " + f + " is \"3kg\", not a number");
    CHECK(error_of("y,a\n1,\"2\"\"\"\n") ==
          "field 2 (\"a\") at line 2 of " + f + " is \"2\"\", not a number");
    // quotes
    CHECK(error_of("y,a\n1,\"2\n3\n") ==
          "field 2 at line 2 of " + f +
              " opens a quote that is never closed (a quote inside a quoted field is "
              "written twice)");
    CHECK(error_of("y,a\n1,\"2\"x,3\n") == "field 2 at line 2 of " + f +
                                               " has \"x\" after its closing quote, expected a delimiter or "
                                               "the line end (a quote inside a quoted "
                                               "field is written twice)");
    // control bytes are shown escaped, long fields cut
    CHECK(error_of("y,a\n1,\"a\tb\x01\"\n") ==
          "field 2 (\"a\") at line 2 of " + f + " is \"a\\tb\\x01\", not a number");
    CHECK(error_of("1,2\n1," + std::string(50, '7') + "x\n") ==
          "field 2 at line 2 of " + f + " is \"" + std::string(40, '7') + "...\", out of the range of float");
    // target columns
    CHECK(error_of("a,b\n1,2\n", {.target_columns = {"y"}}) ==
          "label column \"y\" is not in the header (line 1 of " + f + "), which names \"a\", \"b\"");
    CHECK(error_of("1,2\n", {.target_columns = {"y"}}) ==
          "label column \"y\" is given by name, but " + f +
              " has no header line naming its columns (line 1 is data)");
    CHECK(error_of("x,a,y\n1,2\n", {.target_columns = {"y"}}) ==
          "label column \"y\" is given by name, but the header (line 1 of " + f +
              ") has 3 names for the 2 fields of line 2");
    CHECK(error_of("y,a,y\n1,2,3\n", {.target_columns = {"y"}}) ==
          "label column \"y\" names both field 1 and field 3 of the header (line 1 of " + f + ")");
    CHECK(error_of("y,a,b\n1,2,3\n", {.target = Target::real, .target_columns = {"b", -1}}) ==
          "field 3 of " + f + " is chosen twice: as target column \"b\" and as target column -1");
    CHECK(error_of("y,a,b\n1,2,3\n", {.ignore_columns = {"y"}}) ==
          "field 1 of " + f + " is chosen twice: as label column 0 and as ignored column \"y\"");
    CHECK(error_of("1,2,3\n", {.target = Target::real, .target_columns = {0, 7}}) ==
          "target column 7 is outside the 3 fields at line 1 of " + f);
    CHECK(error_of("1,2,3\n", {.ignore_columns = {-5}}) ==
          "ignored column -5 is outside the 3 fields at line 1 of " + f);
    CHECK(error_of("y\n1\nx\n", {.target = Target::real}) ==
          "field 1 (\"y\") at line 3 of " + f + " is \"x\", not a number");
}

TEST_CASE("CSV options that cannot fit any file are an argument_error", "[csv]") {
    TempDir dir;
    const auto file = dir.write("f.csv", "1,2\n");
    auto error_of = [&](CsvOptions options) {
        return message_of<descent::argument_error>([&] { descent::read_csv<float>(file, options); });
    };
    CHECK(error_of({.target_columns = {0, 1}}) ==
          "read_csv: labels come from one column, got 2 in CsvOptions::target_columns (several columns are "
          "real-valued targets: CsvOptions::Target::real)");
    CHECK(error_of({.target = Target::real, .target_columns = {}}) ==
          "read_csv: real-valued targets need at least one column in CsvOptions::target_columns (none: "
          "CsvOptions::Target::none)");
    CHECK(error_of({.target = Target::real, .classes = 3}) ==
          "read_csv: CsvOptions::classes applies to labels only");
    CHECK(error_of({.classes = 0}) == "read_csv: CsvOptions::classes must be at least 1, got 0");
    CHECK(error_of({.delimiter = '\n'}) == "read_csv: a line end cannot be the delimiter or the quote");
    CHECK(error_of({.delimiter = '"'}) ==
          "read_csv: the quote must differ from the delimiter and from spaces and tabs");
    // checked before the file is opened
    CHECK_THROWS_AS(descent::read_csv<float>(dir / "missing.csv", {.classes = 0}), descent::argument_error);
}
