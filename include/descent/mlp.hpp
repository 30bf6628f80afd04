#pragma once
// A multilayer perceptron: a flat, compile-time list of layers trained with
// l = -log f(x)_y, f(x) = softmax(a(L+1)(x)).
//
//   Mlp<Dense<Relu>, Dense<Relu>, Dense<Identity>> net({784, 256, 128, 10}, seed);
//
// All of θ = {W(1), b(1), ..., W(L+1), b(L+1)} lives in one contiguous buffer,
// and ∇θ in another of the same layout; each layer views its own slice.
#include <Eigen/Core>
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <ranges>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "activations/identity.hpp"
#include "architecture.hpp"
#include "detail/random.hpp"
#include "detail/validate.hpp"
#include "error.hpp"
#include "layers/layer.hpp"
#include "losses/softmax_cross_entropy.hpp"

namespace descent {

// Where one of W(k) or b(k) sits in the parameter buffer.
struct ParameterBlock {
    std::string name;    // "W(1)", "b(1)", ...: the course's names
    Eigen::Index offset;  // into parameters() and gradient()
    Eigen::Index rows;
    Eigen::Index cols;
    bool is_weight;  // regularizers apply to weights only, never to biases
    Eigen::Index size() const { return rows * cols; }
};

namespace detail {

// A layer that can take its step of gradient descent during backpropagation (Dense::descend).
template <class L>
concept descends = requires(L& layer, const Eigen::Ref<const Eigen::Matrix<typename L::scalar_type, Eigen::Dynamic,
                                                                         Eigen::Dynamic>>& m,
                            typename L::scalar_type alpha) { layer.descend(m, m, true, alpha); };

}  // namespace detail

// Layers are checked by static_assert rather than in the template head, so that
// a type that is not a Layer is reported with the member it lacks.
template <class... Layers>
class Mlp {
    static_assert(sizeof...(Layers) >= 1, "descent::Mlp needs at least one layer");
    static_assert((detail::diagnose_layer<Layers>() && ...));
    using First = std::tuple_element_t<0, std::tuple<Layers...>>;
    using Last = std::tuple_element_t<sizeof...(Layers) - 1, std::tuple<Layers...>>;

public:
    using scalar_type = typename First::scalar_type;
    using Scalar = scalar_type;
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
    static constexpr std::size_t depth = sizeof...(Layers);  // L + 1 layers
    // The same network over another scalar type.
    template <std::floating_point T>
    using rebind = Mlp<typename Layers::template rebind<T>...>;

    static_assert((std::is_same_v<typename Layers::scalar_type, Scalar> && ...),
                  "descent::Mlp: every layer must have the same scalar type (all float or all double)");
    static_assert(std::is_same_v<typename Last::activation, Identity>,
                  "descent::Mlp: the output layer must be Dense<Identity, ...>, because "
                  "SoftmaxCrossEntropy applies the softmax itself and takes the gradient at a(L+1)");

    // sizes = {H_0, H_1, ..., H_(L+1)}: the input width, each hidden width, the class count.
    // throws: shape_error when sizes does not have one entry more than there are layers;
    //         argument_error for a size below 1.
    explicit Mlp(std::span<const Eigen::Index> sizes, std::uint64_t seed = 0)
        : layers_(make_layers(sizes, std::index_sequence_for<Layers...>{})) {
        allocate();
        initialize(seed);
    }
    Mlp(std::initializer_list<Eigen::Index> sizes, std::uint64_t seed = 0)
        : Mlp(std::span<const Eigen::Index>(sizes.begin(), sizes.size()), seed) {}

    // From layers built by hand. throws: shape_error when a layer's inputs differ
    // from the outputs of the layer before it, naming both.
    explicit Mlp(Layers... layers) : layers_(std::move(layers)...) {
        check_chain(std::index_sequence_for<Layers...>{});
        allocate();
        initialize(0);
    }

    Mlp(const Mlp& other) : layers_(other.layers_), theta_(other.theta_), grad_(other.grad_), blocks_(other.blocks_) {
        bind();
    }
    Mlp(Mlp&& other) noexcept
        : layers_(std::move(other.layers_)), theta_(std::move(other.theta_)), grad_(std::move(other.grad_)),
          blocks_(std::move(other.blocks_)) {
        bind();
    }
    Mlp& operator=(Mlp other) noexcept {
        layers_ = std::move(other.layers_);
        theta_.swap(other.theta_);
        grad_.swap(other.grad_);
        blocks_.swap(other.blocks_);
        bind();
        return *this;
    }

    // Biases 0, weights from each layer's initializer, drawn in layer order from Engine(seed):
    // the same seed gives bit-identical weights.
    void initialize(std::uint64_t seed) {
        Engine engine(seed);
        initialize(engine);
    }
    void initialize(Engine& engine) {
        std::apply([&](auto&... layer) { (layer.initialize(engine), ...); }, layers_);
    }

    Eigen::Index inputs() const { return std::get<0>(layers_).inputs(); }
    Eigen::Index classes() const { return std::get<depth - 1>(layers_).outputs(); }
    // {H_0, ..., H_(L+1)}
    std::vector<Eigen::Index> sizes() const {
        std::vector<Eigen::Index> s{inputs()};
        std::apply([&](const auto&... layer) { (s.push_back(layer.outputs()), ...); }, layers_);
        return s;
    }

    // What this network is, as plain data: each layer's kind, activation and sizes, the head.
    Architecture architecture() const {
        Architecture a;
        a.scalar = std::is_same_v<Scalar, float> ? "float" : "double";
        std::apply(
            [&](const auto&... layer) {
                (a.layers.push_back({std::remove_cvref_t<decltype(layer)>::kind,
                                     std::remove_cvref_t<decltype(layer)>::activation::name, layer.inputs(),
                                     layer.outputs()}),
                 ...);
            },
            layers_);
        return a;
    }

    template <std::size_t K>
    auto& layer() { return std::get<K>(layers_); }
    template <std::size_t K>
    const auto& layer() const { return std::get<K>(layers_); }

    // θ, and ∇θ of the last compute_gradient(), in the layout of parameter_blocks().
    Eigen::Map<Vector> parameters() { return {theta_.data(), theta_.size()}; }
    Eigen::Map<const Vector> parameters() const { return {theta_.data(), theta_.size()}; }
    Eigen::Map<Vector> gradient() { return {grad_.data(), grad_.size()}; }
    Eigen::Map<const Vector> gradient() const { return {grad_.data(), grad_.size()}; }
    const std::vector<ParameterBlock>& parameter_blocks() const { return blocks_; }

    // a(L+1) for a batch x (H_0 x B).
    // throws: argument_error (empty batch), shape_error (wrong width), non_finite_error.
    Eigen::Map<const Matrix> forward(const Eigen::Ref<const Matrix>& x) {
        detail::check_batch(x, inputs(), "Mlp::forward");
        return forward_from<0>(x);
    }

    // f(x) = softmax(a(L+1)(x)), C x B.
    Matrix predict_proba(const Eigen::Ref<const Matrix>& x) {
        const auto a = forward(x);
        Matrix f(a.rows(), a.cols());
        SoftmaxCrossEntropy<Scalar>::softmax(a, f);
        return f;
    }

    // argmax_c f(x)_c for each sample.
    std::vector<int> predict(const Eigen::Ref<const Matrix>& x) {
        const auto a = forward(x);
        std::vector<int> labels(static_cast<std::size_t>(a.cols()));
        for (Eigen::Index j = 0; j < a.cols(); ++j) {
            Eigen::Index best = 0;
            a.col(j).maxCoeff(&best);
            labels[static_cast<std::size_t>(j)] = static_cast<int>(best);
        }
        return labels;
    }

    // The fraction of samples whose predicted class is their label.
    double accuracy(const Eigen::Ref<const Matrix>& x, std::span<const int> labels) {
        detail::check_batch(x, inputs(), "Mlp::accuracy");
        detail::check_labels(labels, x.cols(), classes(), "Mlp::accuracy");
        const auto predicted = predict(x);
        std::size_t correct = 0;  // a plain loop: clang 14 cannot compile views::iota with libstdc++ 12
        for (std::size_t t = 0; t < predicted.size(); ++t) correct += predicted[t] == labels[t] ? 1 : 0;
        return static_cast<double>(correct) / static_cast<double>(predicted.size());
    }

    // The mean loss (1/B) Σ_t -log f(x_t)_{y_t}; θ and ∇θ are untouched.
    Scalar loss(const Eigen::Ref<const Matrix>& x, std::span<const int> labels) {
        check(x, labels, "Mlp::loss");
        return loss_.forward(forward_from<0>(x), labels);
    }

    // ∇θ of the mean loss over the batch, into gradient(); returns that loss.
    // θ is never changed; on a throw, nothing observable is.
    Scalar compute_gradient(const Eigen::Ref<const Matrix>& x, std::span<const int> labels) {
        check(x, labels, "Mlp::compute_gradient");
        const Scalar l = loss_.forward(forward_from<0>(x), labels);
        backward_from<depth - 1>(x, loss_.backward(labels));
        return l;
    }

    // One step of gradient descent without regularization, θ ← θ - α∇θ l, fused into
    // backpropagation: each layer's step is taken as soon as its ∇h(k-1) has been
    // computed with W(k) before the step (Dense::descend), so ∇θ is never stored and
    // gradient() keeps what the last compute_gradient() left. Sgd takes this path when λ = 0.
    // Returns l at θ before the step. throws: as compute_gradient, before θ changes.
    Scalar descend(const Eigen::Ref<const Matrix>& x, std::span<const int> labels, Scalar alpha)
        requires(detail::descends<Layers> && ...)
    {
        check(x, labels, "Mlp::descend");
        const Scalar l = loss_.forward(forward_from<0>(x), labels);
        descend_from<depth - 1>(x, loss_.backward(labels), alpha);
        return l;
    }

private:
    void check(const Eigen::Ref<const Matrix>& x, std::span<const int> labels, const char* where) const {
        detail::check_batch(x, inputs(), where);
        detail::check_labels(labels, x.cols(), classes(), where);
    }

    template <std::size_t... K>
    static std::tuple<Layers...> make_layers(std::span<const Eigen::Index> sizes, std::index_sequence<K...>) {
        if (sizes.size() != depth + 1)
            throw shape_error("Mlp: " + std::to_string(depth) + " layers need " + std::to_string(depth + 1) +
                              " sizes (H_0, ..., H_(L+1)), got " + std::to_string(sizes.size()));
        // Checked here rather than left to the layers, whose message cannot say which H_k it was.
        for (std::size_t k = 0; k < sizes.size(); ++k)
            if (sizes[k] < 1)
                throw argument_error("Mlp: size H_" + std::to_string(k) + " is " + std::to_string(sizes[k]) +
                                     ", expected at least 1");
        return std::tuple<Layers...>(Layers(sizes[K], sizes[K + 1])...);
    }

    template <std::size_t... K>
    void check_chain(std::index_sequence<K...>) const {
        (check_link<K>(), ...);
    }
    template <std::size_t K>
    void check_link() const {
        if constexpr (K > 0) {
            const auto given = std::get<K - 1>(layers_).outputs();
            const auto taken = std::get<K>(layers_).inputs();
            if (given != taken)
                throw shape_error("Mlp: layer " + std::to_string(K + 1) + " takes " + std::to_string(taken) +
                                  " inputs but layer " + std::to_string(K) + " gives " +
                                  std::to_string(given) + " outputs");
        }
    }

    // One buffer for θ and one for ∇θ; the parameter blocks in layer order.
    void allocate() {
        Eigen::Index total = 0;
        std::size_t k = 0;
        std::apply(
            [&](const auto&... layer) {
                ((blocks_.push_back({"W(" + std::to_string(++k) + ")", total, layer.outputs(), layer.inputs(), true}),
                  blocks_.push_back({"b(" + std::to_string(k) + ")", total + layer.outputs() * layer.inputs(),
                                     layer.outputs(), 1, false}),
                  total += layer.parameter_count()),
                 ...);
            },
            layers_);
        theta_ = Vector::Zero(total);
        grad_ = Vector::Zero(total);
        bind();
    }
    void bind() {
        Eigen::Index offset = 0;
        std::apply(
            [&](auto&... layer) {
                ((layer.bind(theta_.data() + offset, grad_.data() + offset), offset += layer.parameter_count()),
                 ...);
            },
            layers_);
    }

    // h(K) from h(K-1), on to a(L+1).
    template <std::size_t K>
    Eigen::Map<const Matrix> forward_from(const Eigen::Ref<const Matrix>& h_prev) {
        const auto h = std::get<K>(layers_).forward(h_prev);
        if constexpr (K + 1 < depth) return forward_from<K + 1>(h);
        else return h;
    }

    // From ∇h(K+1) (for the output layer, ∇a(L+1)) down to ∇W(1), ∇b(1).
    template <std::size_t K>
    void backward_from(const Eigen::Ref<const Matrix>& x, const Eigen::Ref<const Matrix>& grad_h) {
        if constexpr (K == 0) {
            std::get<0>(layers_).backward(x, grad_h, false);
        } else {
            const auto grad_h_prev = std::get<K>(layers_).backward(std::get<K - 1>(layers_).output(), grad_h, true);
            backward_from<K - 1>(x, grad_h_prev);
        }
    }

    template <std::size_t K>
    void descend_from(const Eigen::Ref<const Matrix>& x, const Eigen::Ref<const Matrix>& grad_h, Scalar alpha) {
        if constexpr (K == 0) {
            std::get<0>(layers_).descend(x, grad_h, false, alpha);
        } else {
            const auto grad_h_prev =
                std::get<K>(layers_).descend(std::get<K - 1>(layers_).output(), grad_h, true, alpha);
            descend_from<K - 1>(x, grad_h_prev, alpha);
        }
    }

    std::tuple<Layers...> layers_;
    Vector theta_;
    Vector grad_;
    std::vector<ParameterBlock> blocks_;
    SoftmaxCrossEntropy<Scalar> loss_;
};

}  // namespace descent
