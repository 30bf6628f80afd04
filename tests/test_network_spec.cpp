// The one-line network spec: what each form means, the round trip through network_spec(), and
// specs that do not parse, named by token and 1-based character position.
#include <descent/architecture.hpp>
#include <descent/error.hpp>
#include <descent/network_spec.hpp>
#include <string>
#include <vector>

#include "support.hpp"

using Catch::Matchers::Contains;
using Catch::Matchers::Equals;
using descent::LayerSpec;
using descent::parse_network_spec;

TEST_CASE("a spec gives the layers, activations, dropout rates and head it says", "[network_spec]") {
    const auto a = parse_network_spec("784-512:relu:dropout=0.5-256:tanh-10");
    REQUIRE(a.layers.size() == 3);
    CHECK(a.layers[0] == LayerSpec{"dense", "relu", 784, 512, 0.5});
    CHECK(a.layers[1] == LayerSpec{"dense", "tanh", 512, 256, 0.0});
    CHECK(a.layers[2] == LayerSpec{"dense", "identity", 256, 10, 0.0});
    CHECK(a.head == "softmax_cross_entropy");
    CHECK(a.scalar == "float");

    SECTION("the activation is relu when left out, and dropout may come without it") {
        const auto b = parse_network_spec("4-8-6:dropout=0.25-2");
        CHECK(b.layers[0].activation == "relu");
        CHECK(b.layers[1] == LayerSpec{"dense", "relu", 8, 6, 0.25});
    }
    SECTION("the head after the output width, short or in full") {
        CHECK(parse_network_spec("30-16:tanh-1:sigmoid").head == "sigmoid_cross_entropy");
        CHECK(parse_network_spec("30-1:sigmoid_cross_entropy").head == "sigmoid_cross_entropy");
        CHECK(parse_network_spec("10-64:sigmoid-3:identity").head == "squared_error");
        CHECK(parse_network_spec("10-3:squared_error").head == "squared_error");
        CHECK(parse_network_spec("10-3:softmax").head == "softmax_cross_entropy");
    }
    SECTION("depth 1: logistic regression") {
        const auto c = parse_network_spec("5-3");
        REQUIRE(c.layers.size() == 1);
        CHECK(c.layers[0] == LayerSpec{"dense", "identity", 5, 3, 0.0});
    }
}

TEST_CASE("network_spec writes what parse_network_spec reads", "[network_spec]") {
    for (const std::string spec :
         {"784-512:relu:dropout=0.5-256:relu-10", "30-16:tanh-1:sigmoid", "5-3",
          "10-64:sigmoid:dropout=0.125-64:identity-3:identity", "2-3:relu:dropout=0.1-2"}) {
        CAPTURE(spec);
        const auto a = parse_network_spec(spec);
        CHECK(descent::network_spec(a) == spec);
        CHECK(parse_network_spec(descent::network_spec(a)) == a);
    }
    CHECK(descent::network_spec(parse_network_spec("4-8-2:softmax")) == "4-8:relu-2");
}

TEST_CASE("a spec that does not parse names the token and its position", "[network_spec][errors]") {
    auto message = [](const std::string& spec) {
        try {
            parse_network_spec(spec);
        } catch (const descent::argument_error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK_THAT(
        message("784-512:relv-10"),
        Equals("network spec \"784-512:relv-10\": unknown activation \"relv\" at character 9; expected "
               "identity, sigmoid, tanh or relu"));
    CHECK_THAT(message("784-512:softmax-10"), Contains("unknown activation \"softmax\" at character 9") &&
                                                  Contains("a head is written on the last layer only"));
    CHECK_THAT(message("784--10"), Contains("missing width \"\" at character 5"));
    CHECK_THAT(message("784-51x-10"), Contains("bad width \"51x\" at character 5"));
    CHECK_THAT(message("784-0-10"), Contains("width out of range \"0\" at character 5"));
    CHECK_THAT(message("784-99999999999999999999-10"),
               Contains("width out of range") && Contains("character 5"));
    CHECK_THAT(message("784-+5-10"), Contains("bad width \"+5\""));
    CHECK_THAT(message("784 -10"), Contains("bad width \"784 \" at character 1"));
    CHECK_THAT(message("784"), Contains("no output layer after \"784\" at character 1"));
    CHECK_THAT(message(""), Contains("at character 1"));
    CHECK_THAT(message("784:relu-10"), Contains("unexpected \"relu\" at character 5") &&
                                           Contains("the input width takes nothing after it"));
    CHECK_THAT(message("784-512:relu:dropout=1-10"),
               Contains("bad dropout rate \"dropout=1\" at character 14") && Contains("[0, 1)"));
    CHECK_THAT(message("784-512:relu:dropout=-0.5-10"),
               Contains("bad dropout rate \"dropout=\" at character 14"));
    CHECK_THAT(message("784-512:relu:dropout=half-10"), Contains("bad dropout rate \"dropout=half\""));
    CHECK_THAT(message("784-512:dropout=0.5:relu-10"), Contains("unexpected \"relu\" at character 21"));
    CHECK_THAT(message("784-512:relu:tanh-10"), Contains("unexpected \"tanh\" at character 14"));
    CHECK_THAT(message("784-512:relu-10:dropout=0.5"),
               Contains("dropout on the output layer \"dropout=0.5\" at character 17"));
    CHECK_THAT(message("784-512:relu-10:relu"),
               Contains("unknown head \"relu\" at character 17") && Contains("softmax, sigmoid or identity"));
    CHECK_THAT(message("784-10:softmax:sigmoid"), Contains("unexpected \"sigmoid\" at character 16"));
    for (const std::string bad : {"784-512:relv-10", "", "784", "784--10", "a-b"})
        CHECK_THROWS_AS(parse_network_spec(bad), descent::argument_error);
}
