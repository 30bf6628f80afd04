// summary(): the table of a network, checked word for word, and the same for an Mlp and a Network
// of one architecture.
#include <descent/activations/identity.hpp>
#include <descent/activations/relu.hpp>
#include <descent/activations/tanh.hpp>
#include <descent/layers/dense.hpp>
#include <descent/losses/squared_error.hpp>
#include <descent/mlp.hpp>
#include <descent/network.hpp>
#include <descent/summary.hpp>
#include <sstream>
#include <string>

#include "support.hpp"

using Catch::Matchers::Contains;

TEST_CASE("the summary of 784-512-256-10 with dropout, word for word", "[summary]") {
    const descent::Network<float> net("784-512:relu:dropout=0.5-256:relu-10", 1);
    const std::string expected =
        "Architecture: 784-512:relu:dropout=0.5-256:relu-10 (float)\n"
        " Layer     Activation   Outputs   Dropout   Parameters\n"
        "======================================================\n"
        " input                      784\n"
        " 1 dense   relu             512       0.5      401,920\n"
        " 2 dense   relu             256         -      131,328\n"
        " 3 dense   identity          10         -        2,570\n"
        "======================================================\n"
        " Head: softmax_cross_entropy (f = softmax, 10 classes)\n"
        " Total parameters: 535,818 (535,040 weights, 778 biases), 2.04 MiB\n";
    CHECK(descent::summary(net) == expected);
    std::ostringstream out;
    descent::summary(out, net);
    CHECK(out.str() == expected);
}

TEST_CASE("an Mlp and a Network of one architecture have one summary", "[summary]") {
    using descent::Dense;
    const descent::Mlp<Dense<descent::Tanh, double>, Dense<descent::Identity, double>,
                       descent::SquaredError<>>
        mlp({13, 64, 1});
    const descent::Network<double> net("13-64:tanh-1:identity");
    const std::string text = descent::summary(mlp);
    CHECK(text == descent::summary(net));
    CHECK_THAT(text, Contains("Architecture: 13-64:tanh-1:identity (double)") &&
                         Contains(" Head: squared_error (f = identity, 1 real outputs)") &&
                         Contains(" Total parameters: 961 (896 weights, 65 biases), 0.01 MiB"));
    CHECK_THAT(descent::summary(descent::Network<float>("30-1:sigmoid")),
               Contains(" 1 dense   identity           1         -           31") &&
                   Contains("(f = sigmoid, binary)"));
}
