#pragma once
// What a head compares f(x) with: one class label per sample, or a real-valued target matrix
// (one column per sample, one row per output). A view for the length of one call; it owns nothing.
#include <Eigen/Core>
#include <concepts>
#include <span>
#include <vector>

namespace descent {

template <std::floating_point Scalar>
class Targets {
public:
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using MatrixView = Eigen::Map<const Matrix, 0, Eigen::OuterStride<>>;

    Targets(std::span<const int> labels) : labels_(labels), are_labels_(true) {}        // NOLINT: implicit
    Targets(const std::vector<int>& labels) : Targets(std::span<const int>(labels)) {}  // NOLINT: implicit
    // requires: values is a matrix in memory with contiguous columns (a Matrix, a Map, a Ref, a block
    // of columns); it must outlive this view.
    template <class Derived>
    Targets(const Eigen::MatrixBase<Derived>& values)  // NOLINT: implicit
        : values_(values.derived().data(), values.rows(), values.cols(),
                  Eigen::OuterStride<>(values.derived().outerStride())),
          are_labels_(false) {
        static_assert(std::is_same_v<typename Derived::Scalar, Scalar>,
                      "descent::Targets: the target matrix must have the network's scalar type");
        static_assert(
            bool(Derived::Flags & Eigen::DirectAccessBit) && !bool(Derived::Flags & Eigen::RowMajorBit),
            "descent::Targets: the target matrix must be column-major in memory (evaluate an expression "
            "first)");
    }

    bool are_labels() const { return are_labels_; }
    std::span<const int> labels() const { return labels_; }  // requires: are_labels()
    const MatrixView& values() const { return values_; }     // requires: !are_labels()
    Eigen::Index samples() const {
        return are_labels_ ? static_cast<Eigen::Index>(labels_.size()) : values_.cols();
    }

private:
    std::span<const int> labels_;
    MatrixView values_{nullptr, 0, 0, Eigen::OuterStride<>(0)};
    bool are_labels_;
};

}  // namespace descent
