#pragma once
// A table of any network, in the manner of Keras' model.summary(): each layer with its kind,
// activation, output width, dropout rate and parameter count, then the head and the totals.
//
//   Architecture: 784-512:relu:dropout=0.5-256:relu-10 (float)
//    Layer     Activation   Outputs   Dropout   Parameters
//   ======================================================
//    input                      784
//    1 dense   relu             512       0.5      401,920
//    2 dense   relu             256         -      131,328
//    3 dense   identity          10         -        2,570
//   ======================================================
//    Head: softmax_cross_entropy (f = softmax, 10 classes)
//    Total parameters: 535,818 (535,040 weights, 778 biases), 2.04 MiB
//
// Its own header, so that a program that never prints a summary does not compile one.
#include <algorithm>
#include <concepts>
#include <iomanip>
#include <locale>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "architecture.hpp"
#include "network_spec.hpp"

namespace descent {

namespace detail {

// 535818 -> "535,818"
// (counts are never negative; built forwards, since GCC 12 warns falsely on string::insert)
inline std::string grouped(unsigned long long value) {
    const std::string digits = std::to_string(value);
    std::string text;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) text += ',';
        text += digits[i];
    }
    return text;
}

}  // namespace detail

inline void summary(std::ostream& out, const Architecture& a) {
    struct Row {
        std::string layer, activation, outputs, dropout, parameters;
    };
    std::vector<Row> rows;
    unsigned long long weights = 0, biases = 0;
    if (!a.layers.empty()) rows.push_back({"input", "", std::to_string(a.layers.front().inputs), "", ""});
    for (std::size_t k = 0; k < a.layers.size(); ++k) {
        const auto& layer = a.layers[k];
        const auto w =
            static_cast<unsigned long long>(layer.inputs) * static_cast<unsigned long long>(layer.outputs);
        const auto b = static_cast<unsigned long long>(layer.outputs);
        weights += w;
        biases += b;
        const bool hidden = k + 1 < a.layers.size();
        rows.push_back({std::to_string(k + 1) + " " + layer.kind, layer.activation,
                        std::to_string(layer.outputs),
                        hidden ? (layer.dropout > 0 ? detail::shortest(layer.dropout) : "-") : "-",
                        detail::grouped(w + b)});
    }
    const Row header{"Layer", "Activation", "Outputs", "Dropout", "Parameters"};
    std::size_t width[5] = {header.layer.size(), header.activation.size(), header.outputs.size(),
                            header.dropout.size(), header.parameters.size()};
    for (const auto& r : rows) {
        width[0] = std::max(width[0], r.layer.size());
        width[1] = std::max(width[1], r.activation.size());
        width[2] = std::max(width[2], r.outputs.size());
        width[3] = std::max(width[3], r.dropout.size());
        width[4] = std::max(width[4], r.parameters.size());
    }
    auto pad = [](const std::string& s, std::size_t w, bool right) {
        const std::string fill(w - s.size(), ' ');
        return right ? fill + s : s + fill;
    };
    auto line = [&](const Row& r) {
        std::string text = " " + pad(r.layer, width[0], false) + "   " + pad(r.activation, width[1], false) +
                           "   " + pad(r.outputs, width[2], true) + "   " + pad(r.dropout, width[3], true) +
                           "   " + pad(r.parameters, width[4], true);
        text.erase(text.find_last_not_of(' ') + 1);
        return text + "\n";
    };
    const std::string rule(1 + width[0] + width[1] + width[2] + width[3] + width[4] + 4 * 3, '=');

    out << "Architecture: " << network_spec(a) << " (" << a.scalar << ")\n";
    out << line(header) << rule << "\n";
    for (const auto& r : rows) out << line(r);
    out << rule << "\n";

    std::string f = a.head;
    for (const auto& head : detail::head_names)
        if (a.head == head.name) f = head.short_name;
    std::string task;
    if (!a.layers.empty()) {
        const long long outputs = a.layers.back().outputs;
        if (a.head == SoftmaxCrossEntropy<>::name)
            task = ", " + std::to_string(outputs) + " classes";
        else if (a.head == SigmoidCrossEntropy<>::name)
            task = outputs == 1 ? ", binary" : ", " + std::to_string(outputs) + " labels";
        else if (a.head == SquaredError<>::name)
            task = ", " + std::to_string(outputs) + " real outputs";
    }
    out << " Head: " << a.head << " (f = " << f << task << ")\n";
    std::ostringstream mib;  // in the classic locale: 2.04, never 2,04
    mib.imbue(std::locale::classic());
    const double bytes = static_cast<double>(weights + biases) * (a.scalar == "double" ? 8.0 : 4.0);
    mib << std::fixed << std::setprecision(2) << bytes / (1024.0 * 1024.0);
    out << " Total parameters: " << detail::grouped(weights + biases) << " (" << detail::grouped(weights)
        << " weights, " << detail::grouped(biases) << " biases), " << mib.str() << " MiB\n";
}

inline std::string summary(const Architecture& a) {
    std::ostringstream out;
    summary(out, a);
    return out.str();
}

// Any network: Mlp, Network, or a type of one's own with architecture().
template <class Net>
requires requires(const Net& net) {
    { net.architecture() } -> std::convertible_to<Architecture>;
}
void summary(std::ostream& out, const Net& net) {
    summary(out, net.architecture());
}
template <class Net>
requires requires(const Net& net) {
    { net.architecture() } -> std::convertible_to<Architecture>;
}
std::string summary(const Net& net) {
    return summary(net.architecture());
}

}  // namespace descent
