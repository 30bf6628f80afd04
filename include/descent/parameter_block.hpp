#pragma once
// Where one of W(k) or b(k) sits in a network's parameter buffer: optimizers, regularizers, the
// gradient checker and file code loop over these, never over layer types.
#include <Eigen/Core>
#include <string>

namespace descent {

struct ParameterBlock {
    std::string name;     // "W(1)", "b(1)", ...: the course's names
    Eigen::Index offset;  // into parameters() and gradient()
    Eigen::Index rows;
    Eigen::Index cols;
    bool is_weight;  // regularizers apply to weights only, never to biases
    Eigen::Index size() const { return rows * cols; }
};

}  // namespace descent
