#pragma once
// A network in one line of text, for command lines and configuration files:
//
//   784-512:relu:dropout=0.5-256:relu-10          softmax over 10 classes (the default head)
//   30-16:tanh-1:sigmoid                          binary classification, one sigmoid output
//   10-64-64-3:identity                           regression on 3 real outputs (squared error)
//
// Grammar (no spaces; widths are decimal integers >= 1, rates decimals in [0, 1)):
//   spec   = input "-" { hidden "-" } output
//   input  = width                                             H_0, the features
//   hidden = width [ ":" activation ] [ ":dropout=" rate ]     activation: identity, sigmoid, tanh,
//                                                              relu (relu when left out)
//   output = width [ ":" head ]                                head: softmax (the default), sigmoid,
//                                                              identity, or its full name
//                                                              softmax_cross_entropy,
//                                                              sigmoid_cross_entropy, squared_error
// The output layer is always Dense<Identity>; the word after its width names f of the head,
// which brings its loss: softmax with cross-entropy, sigmoid with binary cross-entropy, the
// identity with the squared error. A spec that does not parse throws argument_error naming the
// token and its 1-based character position.
#include <Eigen/Core>
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "activations/identity.hpp"
#include "activations/relu.hpp"
#include "activations/sigmoid.hpp"
#include "activations/tanh.hpp"
#include "architecture.hpp"
#include "error.hpp"
#include "losses/sigmoid_cross_entropy.hpp"
#include "losses/softmax_cross_entropy.hpp"
#include "losses/squared_error.hpp"

namespace descent {

namespace detail {

inline constexpr std::array<const char*, 4> activation_names{Identity::name, Sigmoid::name, Tanh::name,
                                                             Relu::name};

struct HeadNames {
    const char* name;        // as Architecture::head records it
    const char* short_name;  // f, as a spec writes it
};
inline constexpr std::array<HeadNames, 3> head_names{
    HeadNames{SoftmaxCrossEntropy<>::name, SoftmaxCrossEntropy<>::output_function},
    HeadNames{SigmoidCrossEntropy<>::name, SigmoidCrossEntropy<>::output_function},
    HeadNames{SquaredError<>::name, SquaredError<>::output_function}};

inline bool is_activation(std::string_view word) {
    for (const char* name : activation_names)
        if (word == name) return true;
    return false;
}
// The head's full name for a full or short name, or nullptr.
inline const char* head_named(std::string_view word) {
    for (const auto& head : head_names)
        if (word == head.name || word == head.short_name) return head.name;
    return nullptr;
}

// "a, b, c or d"
template <class Names>
std::string one_of(const Names& names) {
    std::string text;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) text += i + 1 == names.size() ? " or " : ", ";
        text += names[i];
    }
    return text;
}

// The shortest decimal that reads back as the same double, in any locale.
inline std::string shortest(double value) {
    char buffer[32];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
    return std::string(buffer, end);
}

}  // namespace detail

// The architecture a spec describes (scalar "float": Network<Scalar> sets its own).
// throws: argument_error "network spec "784-512:relv-10": unknown activation "relv" at character 9; ...".
inline Architecture parse_network_spec(std::string_view spec) {
    struct Token {
        std::string_view text;
        std::size_t position;  // 0-based, of its first character
    };
    auto fail = [&](const std::string& what, const Token& token, const std::string& expected) {
        return argument_error("network spec \"" + std::string(spec) + "\": " + what + " \"" +
                              std::string(token.text) + "\" at character " +
                              std::to_string(token.position + 1) + "; " + expected);
    };
    auto split = [](Token whole, char separator) {
        std::vector<Token> parts;
        std::size_t start = 0;
        for (;;) {
            const std::size_t end = whole.text.find(separator, start);
            parts.push_back({whole.text.substr(start, end - start), whole.position + start});
            if (end == std::string_view::npos) return parts;
            start = end + 1;
        }
    };
    auto width = [&](const Token& token) {
        long long value = 0;
        const char* first = token.text.data();
        const char* last = first + token.text.size();
        const auto [end, status] = std::from_chars(first, last, value);
        const bool digits = !token.text.empty() && token.text.front() >= '0' && token.text.front() <= '9';
        if (!digits || end != last || status == std::errc::invalid_argument)
            throw fail(token.text.empty() ? "missing width" : "bad width", token,
                       "expected a layer width such as 512, or 512:relu");
        if (status == std::errc::result_out_of_range || value < 1 ||
            value > std::numeric_limits<Eigen::Index>::max())
            throw fail("width out of range", token, "expected a width of at least 1");
        return static_cast<Eigen::Index>(value);
    };
    auto rate = [&](const Token& token) {
        const std::string_view digits = token.text.substr(std::string_view("dropout=").size());
        double value = 0;
        const auto [end, status] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (digits.empty() || end != digits.data() + digits.size() || status != std::errc() ||
            !(value >= 0) || !(value < 1))
            throw fail("bad dropout rate", token, "expected dropout=p with p in [0, 1), such as dropout=0.5");
        return value;
    };

    const auto layers = split({spec, 0}, '-');
    if (layers.size() < 2)
        throw fail(
            "no output layer after", layers.front(),
            "expected the input width, any hidden layers and the output layer, such as 784-512:relu-10");

    Architecture a;
    const auto input = split(layers.front(), ':');
    if (input.size() > 1)
        throw fail("unexpected", input[1], "the input width takes nothing after it (write 784-512:relu-10)");
    Eigen::Index previous = width(input[0]);
    for (std::size_t k = 1; k < layers.size(); ++k) {
        const bool output = k + 1 == layers.size();
        const auto fields = split(layers[k], ':');
        LayerSpec layer{"dense", output ? Identity::name : Relu::name, previous, width(fields[0]), 0.0};
        bool activation_given = false, dropout_given = false;
        for (std::size_t i = 1; i < fields.size(); ++i) {
            const Token& field = fields[i];
            if (field.text.starts_with("dropout=")) {
                if (output)
                    throw fail("dropout on the output layer", field,
                               "dropout applies to hidden layers only (write it as 512:relu:dropout=0.5)");
                if (dropout_given) throw fail("a second dropout rate", field, "give one rate per layer");
                layer.dropout = rate(field);
                dropout_given = true;
            } else if (output) {
                const char* head = detail::head_named(field.text);
                if (head == nullptr || i > 1)
                    throw fail(
                        i > 1 ? "unexpected" : "unknown head", field,
                        "the output layer takes one head: softmax, sigmoid or identity (squared error)");
                a.head = head;
            } else {
                if (activation_given || dropout_given)
                    throw fail("unexpected", field, "a hidden layer is width[:activation][:dropout=p]");
                if (!detail::is_activation(field.text))
                    throw fail(
                        "unknown activation", field,
                        "expected " + detail::one_of(detail::activation_names) +
                            (detail::head_named(field.text) ? " (a head is written on the last layer only)"
                                                            : ""));
                layer.activation = std::string(field.text);
                activation_given = true;
            }
        }
        a.layers.push_back(layer);
        previous = layer.outputs;
    }
    return a;
}

// The spec of an architecture: its activations always written, the head when not softmax.
// parse_network_spec(network_spec(a)) == a for every architecture a Network takes (scalar aside).
inline std::string network_spec(const Architecture& a) {
    if (a.layers.empty()) return "";
    std::string text = std::to_string(a.layers.front().inputs);
    for (std::size_t k = 0; k < a.layers.size(); ++k) {
        const auto& layer = a.layers[k];
        // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive) on "-" + std::string.
        text += '-';
        text += std::to_string(layer.outputs);
        if (k + 1 < a.layers.size()) {
            text += ':';
            text += layer.activation;
            if (layer.dropout != 0) {
                text += ":dropout=";
                text += detail::shortest(layer.dropout);
            }
        } else if (a.head != SoftmaxCrossEntropy<>::name) {
            const char* short_name = a.head.c_str();
            for (const auto& head : detail::head_names)
                if (a.head == head.name) short_name = head.short_name;
            text += std::string(":") + short_name;
        }
    }
    return text;
}

}  // namespace descent
