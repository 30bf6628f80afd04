#pragma once
// A grow-only buffer viewed as a matrix of the current batch's shape.
//
// A batch H x B is the first B columns of an H x B_max buffer (Eigen is
// column-major), so a smaller last batch reuses the storage: once the largest
// batch size has been seen, a training step allocates nothing.
#include <Eigen/Core>

namespace descent::detail {

template <class Scalar>
class Workspace {
public:
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

    Eigen::Map<Matrix> shape(Eigen::Index rows, Eigen::Index cols) {
        if (rows * cols > storage_.size()) storage_.resize(rows * cols);
        rows_ = rows;
        cols_ = cols;
        return view();
    }
    Eigen::Map<Matrix> view() { return {storage_.data(), rows_, cols_}; }
    Eigen::Map<const Matrix> view() const { return {storage_.data(), rows_, cols_}; }
    Eigen::Map<const Matrix> cview() const { return view(); }

private:
    Eigen::Matrix<Scalar, Eigen::Dynamic, 1> storage_;
    Eigen::Index rows_ = 0;
    Eigen::Index cols_ = 0;
};

}  // namespace descent::detail
