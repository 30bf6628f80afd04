#pragma once
// What Mlp (layers fixed as a C++ type) and Network (layers chosen at run time) share, written
// once: θ and ∇θ in two contiguous buffers with their blocks, the forward and backward chain over
// the layers with dropout between them, the head's loss and fused gradient, prediction, accuracy.
// The two differ only in how they hold their layers and their head, two policies:
//   Sequence:   size(); visit(k, f), which calls f(layer k); for_each(f); `object`, the name
//               messages use ("Mlp", "Network"); `descends`, whether every layer has descend().
//   HeadChoice: visit(f), which calls f(std::type_identity<H>{}) for the head H (losses/head.hpp).
// Mlp's are a std::tuple and a type; Network's a vector of std::variant and a run-time choice.
// Both run the same layer code in the same order, so they give the same numbers, bit for bit.
#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "architecture.hpp"
#include "error.hpp"
#include "layers/dropout.hpp"
#include "losses/targets.hpp"
#include "parameter_block.hpp"
#include "detail/message.hpp"
#include "detail/random.hpp"
#include "detail/validate.hpp"
#include "detail/workspace.hpp"

namespace descent::detail {

// A head fixed at compile time.
template <class H>
struct StaticHead {
    template <class F>
    decltype(auto) visit(F&& f) const {
        return f(std::type_identity<H>{});
    }
};

// The dropout engine's seed for a network initialized from `seed`: another stream than the
// weights', so that masks do not repeat the draws W(k) was made of.
inline std::uint64_t dropout_seed(std::uint64_t seed) {
    return seed ^ 0xD1B54A32D192ED03ull;
}

template <class Sequence, class HeadChoice>
class NetworkCore {
public:
    using scalar_type = typename Sequence::scalar_type;
    using Scalar = scalar_type;
    using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
    using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

    NetworkCore(const NetworkCore& other)
        : layers_(other.layers_),
          head_(other.head_),
          theta_(other.theta_),
          grad_(other.grad_),
          blocks_(other.blocks_),
          dropout_(other.dropout_),
          dropout_on_(other.dropout_on_),
          dropout_engine_(other.dropout_engine_),
          mask_seed_(other.mask_seed_),
          masks_fixed_(other.masks_fixed_) {
        bind();
    }
    NetworkCore(NetworkCore&& other) noexcept
        : layers_(std::move(other.layers_)),
          head_(std::move(other.head_)),
          theta_(std::move(other.theta_)),
          grad_(std::move(other.grad_)),
          blocks_(std::move(other.blocks_)),
          dropout_(std::move(other.dropout_)),
          dropout_on_(other.dropout_on_),
          dropout_engine_(other.dropout_engine_),
          mask_seed_(other.mask_seed_),
          masks_fixed_(other.masks_fixed_) {
        bind();
    }
    NetworkCore& operator=(NetworkCore other) noexcept {
        layers_ = std::move(other.layers_);
        head_ = std::move(other.head_);
        theta_.swap(other.theta_);
        grad_.swap(other.grad_);
        blocks_.swap(other.blocks_);
        dropout_.swap(other.dropout_);
        dropout_on_ = other.dropout_on_;
        dropout_engine_ = other.dropout_engine_;
        mask_seed_ = other.mask_seed_;
        masks_fixed_ = other.masks_fixed_;
        bind();
        return *this;
    }
    ~NetworkCore() = default;

    // ---- Parameters ----

    // Biases 0, weights from each layer's initializer, drawn in layer order from Engine(seed): the
    // same seed gives bit-identical weights. Also reseeds the dropout engine (dropout_seed(seed)).
    void initialize(std::uint64_t seed) {
        Engine engine(seed);
        initialize(engine);
        dropout_engine_.seed(dropout_seed(seed));
    }
    void initialize(Engine& engine) {
        layers_.for_each([&](auto& layer) { layer.initialize(engine); });
    }

    // θ, and ∇θ of the last compute_gradient(), in the layout of parameter_blocks().
    // Writable θ: the bounds the guarded step keeps on |θ| are forgotten (descend_guarded).
    Eigen::Map<Vector> parameters() {
        forget_bounds();
        return {theta_.data(), theta_.size()};
    }
    Eigen::Map<const Vector> parameters() const { return {theta_.data(), theta_.size()}; }
    Eigen::Map<Vector> gradient() { return {grad_.data(), grad_.size()}; }
    Eigen::Map<const Vector> gradient() const { return {grad_.data(), grad_.size()}; }
    // W(1), b(1), W(2), ...: W(k) is H_k x H_(k-1), column-major, and b(k) follows it.
    const std::vector<ParameterBlock>& parameter_blocks() const { return blocks_; }

    // ---- What the network is ----

    Eigen::Index inputs() const {
        return layers_.visit(0, [](const auto& layer) { return layer.inputs(); });
    }
    // H_(L+1), the width of a(L+1).
    Eigen::Index outputs() const {
        return layers_.visit(layers_.size() - 1, [](const auto& layer) { return layer.outputs(); });
    }
    // The classes of the task: C for softmax, 2 for one sigmoid output, K labels for K sigmoid
    // outputs, 0 for squared_error (no classes).
    Eigen::Index classes() const {
        return head_.visit([&](auto head) { return decltype(head)::type::classes(outputs()); });
    }
    // {H_0, ..., H_(L+1)}
    std::vector<Eigen::Index> sizes() const {
        std::vector<Eigen::Index> s{inputs()};
        layers_.for_each([&](const auto& layer) { s.push_back(layer.outputs()); });
        return s;
    }
    // "softmax_cross_entropy", "sigmoid_cross_entropy" or "squared_error".
    const char* head_name() const {
        return head_.visit([](auto head) -> const char* { return decltype(head)::type::name; });
    }
    // Each layer's kind, activation, sizes and dropout rate, the head, the scalar type.
    Architecture architecture() const {
        Architecture a;
        a.scalar = std::is_same_v<Scalar, float> ? "float" : "double";
        a.head = head_name();
        std::size_t k = 0;
        layers_.for_each([&](const auto& layer) {
            using L = std::remove_cvref_t<decltype(layer)>;
            a.layers.push_back({L::kind, L::activation::name, layer.inputs(), layer.outputs(),
                                k < dropout_.size() ? dropout_[k].rate() : 0.0});
            ++k;
        });
        return a;
    }

    // ---- Dropout (layers/dropout.hpp): on hidden layers, while training only ----

    // The rate p on h(k), for the hidden layers k = 1, ..., L. throws: argument_error for another k.
    double dropout(std::size_t k) const { return dropout_[hidden_index(k, at("dropout"))].rate(); }
    // requires: 1 <= k <= L, 0 <= rate < 1. throws: argument_error, and nothing changes.
    void set_dropout(std::size_t k, double rate) {
        const std::size_t i = hidden_index(k, at("set_dropout"));
        if (!(rate >= 0 && rate < 1))
            throw argument_error(join({at("set_dropout").text(), ": the rate of hidden layer ", k,
                                       " must be in [0, 1), got ", number(rate)}));
        dropout_[i].set_rate(rate);
        dropout_on_ = false;
        for (const auto& d : dropout_) dropout_on_ = dropout_on_ || d.rate() > 0;
    }
    bool has_dropout() const { return dropout_on_; }
    // Where the masks come from: a fresh mask for every training pass, from this engine (seeded
    // by the constructor and initialize(seed); a checkpoint saves it to resume bit for bit).
    void seed_dropout(std::uint64_t seed) { dropout_engine_.seed(seed); }
    Engine& dropout_engine() { return dropout_engine_; }
    const Engine& dropout_engine() const { return dropout_engine_; }
    // Fixed masks, for gradient checking: every training pass draws its masks from Engine(seed)
    // anew, so that passes over batches of one shape use the same masks and the training loss is
    // a fixed, differentiable function of θ.
    void fix_dropout_masks(std::uint64_t seed) {
        masks_fixed_ = true;
        mask_seed_ = seed;
    }
    void unfix_dropout_masks() { masks_fixed_ = false; }
    bool dropout_masks_fixed() const { return masks_fixed_; }
    std::uint64_t dropout_mask_seed() const { return mask_seed_; }

    // ---- Forward, prediction, evaluation: never dropout, θ and ∇θ untouched ----

    // a(L+1) for a batch x (H_0 x B).
    // throws: argument_error (empty batch), shape_error (wrong width), non_finite_error.
    Eigen::Map<const Matrix> forward(const Eigen::Ref<const Matrix>& x) {
        check_batch(x, inputs(), at("forward"));
        return run_forward(x, false);
    }

    // One class per sample: argmax_c f(x)_c for softmax, 1{f(x) > 1/2} for one sigmoid output.
    // throws: as forward; argument_error for a head that gives no single class (several sigmoid
    //         outputs, squared_error: see predict_values).
    std::vector<int> predict(const Eigen::Ref<const Matrix>& x) {
        check_batch(x, inputs(), at("predict"));
        return head_.visit([&](auto head) {
            using H = typename decltype(head)::type;
            if (!H::predicts_classes(outputs()))
                throw argument_error(
                    join({at("predict").text(), ": the ", H::name, " head with ", outputs(),
                          " outputs gives no single class per sample: use predict_values (",
                          H::has_probabilities ? "a 0/1 decision per output" : "the values f(x)", ")"}));
            const auto a = run_forward(x, false);
            std::vector<int> labels(static_cast<std::size_t>(a.cols()));
            for (Eigen::Index j = 0; j < a.cols(); ++j)
                labels[static_cast<std::size_t>(j)] = H::predict_class(a, j);
            return labels;
        });
    }
    int predict(std::span<const Scalar> sample) { return predict(one(sample, "predict"))[0]; }
    int predict(const std::vector<Scalar>& sample) { return predict(std::span<const Scalar>(sample)); }

    // f(x), outputs x B: softmax or sigmoid probabilities.
    // throws: as forward; argument_error for squared_error, whose f(x) are values (predict_values).
    Matrix predict_proba(const Eigen::Ref<const Matrix>& x) {
        check_batch(x, inputs(), at("predict_proba"));
        return head_.visit([&](auto head) {
            using H = typename decltype(head)::type;
            if (!H::has_probabilities)
                throw argument_error(
                    join({at("predict_proba").text(), ": the ", H::name,
                          " head gives real values, not probabilities: use predict_values"}));
            const auto a = run_forward(x, false);
            Matrix f(a.rows(), a.cols());
            H::output(a, f);
            return f;
        });
    }
    Vector predict_proba(std::span<const Scalar> sample) {
        return predict_proba(one(sample, "predict_proba"));
    }
    Vector predict_proba(const std::vector<Scalar>& sample) {
        return predict_proba(std::span<const Scalar>(sample));
    }

    // The prediction in the form of a target matrix, outputs x B: f(x) for squared_error, a 0/1
    // decision per output for sigmoid (f > 1/2), e(argmax) for softmax. throws: as forward.
    Matrix predict_values(const Eigen::Ref<const Matrix>& x) {
        check_batch(x, inputs(), at("predict_values"));
        const auto a = run_forward(x, false);
        Matrix out(a.rows(), a.cols());
        head_.visit([&](auto head) { decltype(head)::type::decide(a, out); });
        return out;
    }
    Vector predict_values(std::span<const Scalar> sample) {
        return predict_values(one(sample, "predict_values"));
    }
    Vector predict_values(const std::vector<Scalar>& sample) {
        return predict_values(std::span<const Scalar>(sample));
    }

    // The fraction of samples classified as their targets (count_correct).
    // throws: as loss; argument_error for squared_error, which has no classes.
    double accuracy(const Eigen::Ref<const Matrix>& x, std::span<const int> labels) {
        return accuracy(x, Targets<Scalar>(labels), at("accuracy"));
    }
    double accuracy(const Eigen::Ref<const Matrix>& x, const Eigen::Ref<const Matrix>& targets) {
        return accuracy(x, Targets<Scalar>(targets), at("accuracy"));
    }

    // The mean loss (1/B) Σ_t l(f(x_t), y_t), without dropout; θ and ∇θ are untouched.
    // throws: argument_error, shape_error, non_finite_error (x); shape_error, label_error,
    //         non_finite_error (targets the head does not take).
    Scalar loss(const Eigen::Ref<const Matrix>& x, std::span<const int> labels) {
        return loss(x, Targets<Scalar>(labels), at("loss"));
    }
    Scalar loss(const Eigen::Ref<const Matrix>& x, const Eigen::Ref<const Matrix>& targets) {
        return loss(x, Targets<Scalar>(targets), at("loss"));
    }

    // ---- Training: dropout on ----

    // ∇θ of the mean loss over the batch, into gradient(); returns that loss (with dropout's
    // masks when dropout is on). θ is never changed; on a throw, nothing observable is.
    Scalar compute_gradient(const Eigen::Ref<const Matrix>& x, std::span<const int> labels) {
        return train(x, Targets<Scalar>(labels), at("compute_gradient"), false);
    }
    Scalar compute_gradient(const Eigen::Ref<const Matrix>& x, const Eigen::Ref<const Matrix>& targets) {
        return train(x, Targets<Scalar>(targets), at("compute_gradient"), false);
    }

    // One step of gradient descent without regularization, θ ← θ - α∇θ l, fused into
    // backpropagation: ∇a(k) and ∇h(k-1) = W(k)ᵀ ∇a(k) for every layer first, with θ as it is,
    // then W(k) ← W(k) - α ∇a(k) h(k-1)ᵀ for every layer (Dense::propagate, descend), so ∇θ is
    // never stored and gradient() keeps what the last compute_gradient() left.
    // Returns l at θ before the step. throws: as compute_gradient, before θ changes.
    Scalar descend(const Eigen::Ref<const Matrix>& x, const Targets<Scalar>& y,
                   Scalar alpha) requires Sequence::descends {
        const Scalar l = train(x, y, at("descend"), true);
        take_steps(x, alpha);
        return l;
    }

    // descend with the divergence guard's evidence, gathered before θ changes, at a cost of a
    // pass over each a(k) and h(k-1) rather than over θ: l finite; for layer k, with
    // r_k = max_i Σ_batch |∇a(k)_i| and η_k = max |h(k-1)|, every entry of ∇W(k) = ∇a(k) h(k-1)ᵀ
    // is at most r_k η_k and of ∇b(k) at most r_k, so the step moves no parameter of layer k by
    // more than u_k = α r_k max(η_k, 1). With M_k >= max |θ of layer k| (kept from step to step,
    // M_k ← M_k + u_k, and measured afresh when unknown), the step is taken only when every
    // M_k + u_k is within `limit` (and the bounds finite): then no parameter can become NaN,
    // infinite or larger than the limit. Otherwise nothing changes and it returns nullopt, for
    // the caller to take the exact guarded step, which names what went wrong.
    // throws: as compute_gradient, before θ changes.
    std::optional<Scalar> descend_guarded(const Eigen::Ref<const Matrix>& x, const Targets<Scalar>& y,
                                          Scalar alpha, double limit) requires Sequence::descends {
        const Scalar l = train(x, y, at("step"), true);
        if (!std::isfinite(static_cast<double>(l))) return std::nullopt;
        const std::size_t depth = layers_.size();
        if (bounds_.size() != depth) bounds_.assign(depth, -1.0);
        bool measured = false;
        for (int attempt = 0; attempt < 2; ++attempt) {
            bool safe = true;
            for (std::size_t k = 0; k < depth && safe; ++k) {
                const double u = step_bound(x, k, static_cast<double>(alpha));
                if (bounds_[k] < 0) bounds_[k] = largest_parameter(k);
                safe = std::isfinite(u) && bounds_[k] + u <= limit;
            }
            if (safe) {
                for (std::size_t k = 0; k < depth; ++k)
                    bounds_[k] += step_bound(x, k, static_cast<double>(alpha));
                take_steps(x, alpha);
                return l;
            }
            if (measured) break;
            forget_bounds();  // a bound grown from step to step may be loose: measure once more
            measured = true;
        }
        return std::nullopt;
    }

    // How many samples of the last forward pass (of forward, predict, loss, compute_gradient,
    // descend...) the head classifies as their targets: argmax_c a_c = y for softmax; a > 0 exactly
    // for the 1s for sigmoid, every output right for several. -1 for squared_error. Lets a
    // training loop count its train accuracy without another pass.
    // throws: shape_error (not one target per sample of that pass), label_error, non_finite_error.
    Eigen::Index count_correct(std::span<const int> labels) const {
        return count_correct(Targets<Scalar>(labels), at("count_correct"));
    }
    Eigen::Index count_correct(const Eigen::Ref<const Matrix>& targets) const {
        return count_correct(Targets<Scalar>(targets), at("count_correct"));
    }

    // Throws what loss() would throw for these targets of `samples` samples; for a training loop
    // that checks a whole data set once, before its first step, with the head's own messages.
    void check_targets(std::span<const int> labels, Eigen::Index samples, const Where& where) const {
        check_target_view(Targets<Scalar>(labels), samples, where);
    }
    void check_targets(const Eigen::Ref<const Matrix>& targets, Eigen::Index samples,
                       const Where& where) const {
        check_target_view(Targets<Scalar>(targets), samples, where);
    }

protected:
    // θ may change from outside (a layer handed out by reference): descend_guarded's bounds go.
    void forget_bounds() { std::fill(bounds_.begin(), bounds_.end(), -1.0); }
    // throws: shape_error when a layer's inputs differ from the outputs of the layer before it;
    //         argument_error when θ would have more entries than an Eigen::Index counts.
    NetworkCore(Sequence layers, HeadChoice head, std::uint64_t seed)
        : layers_(std::move(layers)), head_(std::move(head)), dropout_(layers_.size() - 1) {
        check_chain();
        allocate();
        initialize(seed);
    }

    // The same dropout settings in another network of the same shape (for cast()).
    template <class Other>
    void copy_dropout_to(Other& other) const {
        for (std::size_t k = 1; k <= dropout_.size(); ++k) other.set_dropout(k, dropout(k));
        other.dropout_engine() = dropout_engine_;
        if (masks_fixed_) other.fix_dropout_masks(mask_seed_);
    }

    static Where at(const char* function) { return {Sequence::object, function}; }

    Sequence layers_;

private:
    // A matrix view that can be reseated as the chain moves from layer to layer.
    struct View {
        const Scalar* data;
        Eigen::Index rows, cols;
        Eigen::Map<const Matrix> map() const { return {data, rows, cols}; }
    };
    template <class M>
    static View view(const M& m) {
        return {m.data(), m.rows(), m.cols()};
    }

    // Layer k's part of backpropagation: backward(), which stores ∇W(k) and ∇b(k), or, for the
    // fused descent (fused), propagate(), which keeps ∇a(k) for descend().
    template <class L>
    static View backward_step(L& layer, const Eigen::Ref<const Matrix>& h_prev,
                              const Eigen::Ref<const Matrix>& grad_h, bool propagate, bool fused) {
        if constexpr (requires { layer.propagate(grad_h, propagate); }) {
            if (fused) return view(layer.propagate(grad_h, propagate));
        }
        return view(layer.backward(h_prev, grad_h, propagate));
    }

    // The second pass of descend: each layer's step with the ∇a(k) its propagate() kept, on the
    // input h̃(k-1) it saw in the forward pass.
    void take_steps(const Eigen::Ref<const Matrix>& x, Scalar alpha) {
        layers_.visit(0, [&](auto& layer) { layer.descend(x, alpha); });
        for (std::size_t k = 1; k < layers_.size(); ++k)
            layers_.visit(k, [&](auto& layer) { layer.descend(hidden_input(k).map(), alpha); });
    }
    // What layer k > 0 saw in the last training pass: h(k-1), or h̃(k-1) after dropout.
    View hidden_input(std::size_t k) const {
        if (dropout_on_ && dropout_[k - 1].rate() > 0) return view(dropout_[k - 1].output());
        return layers_.visit(k - 1, [](const auto& layer) { return view(layer.output()); });
    }
    // u_k = α r_k max(η_k, 1) of descend_guarded; infinite or NaN when ∇a(k) or h(k-1) is not finite.
    double step_bound(const Eigen::Ref<const Matrix>& x, std::size_t k, double alpha) const {
        const auto grad_a = layers_.visit(k, [](const auto& layer) { return view(layer.kept_gradient()); });
        const double r = static_cast<double>(
            grad_a.map().cwiseAbs().rowwise().sum().template maxCoeff<Eigen::PropagateNaN>());
        double eta = 0;
        if (k == 0) {
            eta = largest_magnitude(x.data(), x.rows(), x.cols(), x.outerStride());
        } else {
            const View h = hidden_input(k);
            eta = largest_magnitude(h.data, h.rows, h.cols, h.rows);
        }
        if (std::isnan(r) || std::isnan(eta)) return std::numeric_limits<double>::quiet_NaN();
        return alpha * r * std::max(eta, 1.0);
    }
    // max |m| over a matrix in memory, NaN when it holds a NaN: x, each h(k-1) and each block of θ
    // through one function, where an expression per type compiled an unrolled reduction each.
    static double largest_magnitude(const Scalar* data, Eigen::Index rows, Eigen::Index cols,
                                    Eigen::Index outer_stride) {
        const Eigen::Map<const Matrix, 0, Eigen::OuterStride<>> m(data, rows, cols,
                                                                  Eigen::OuterStride<>(outer_stride));
        return static_cast<double>(m.cwiseAbs().template maxCoeff<Eigen::PropagateNaN>());
    }
    // max |θ| over layer k's blocks, W(k) and b(k).
    double largest_parameter(std::size_t k) const {
        double largest = 0;
        for (std::size_t i = 2 * k; i < 2 * k + 2 && i < blocks_.size(); ++i) {
            const auto& block = blocks_[i];
            const double m = largest_magnitude(theta_.data() + block.offset, block.size(), 1, block.size());
            largest = std::isnan(m) ? std::numeric_limits<double>::infinity() : std::max(largest, m);
        }
        return largest;
    }

    std::size_t hidden_index(std::size_t k, const Where& where) const {
        if (k < 1 || k > dropout_.size())
            throw argument_error(
                join({where.text(), ": hidden layer ", k,
                      dropout_.empty() ? " does not exist: this network has no hidden layer"
                                       : " does not exist: the hidden layers are 1 to ",
                      dropout_.empty() ? std::string() : join({dropout_.size()}),
                      " (dropout applies to h(k) of a hidden layer, never to the output a(L+1))"}));
        return k - 1;
    }

    // One sample as a batch of one column. throws: shape_error for the wrong count of features.
    Eigen::Map<const Matrix> one(std::span<const Scalar> sample, const char* function) const {
        if (static_cast<Eigen::Index>(sample.size()) != inputs())
            throw shape_error(join({at(function).text(), ": a sample of ", sample.size(),
                                    " features, the first layer takes ", inputs()}));
        return {sample.data(), inputs(), 1};
    }

    void check_target_view(const Targets<Scalar>& y, Eigen::Index samples, const Where& where) const {
        head_.visit([&](auto head) { decltype(head)::type::check_targets(y, outputs(), samples, where); });
    }
    void check(const Eigen::Ref<const Matrix>& x, const Targets<Scalar>& y, const Where& where) const {
        check_batch(x, inputs(), where);
        check_target_view(y, x.cols(), where);
    }

    double accuracy(const Eigen::Ref<const Matrix>& x, const Targets<Scalar>& y, const Where& where) {
        check_batch(x, inputs(), where);
        return head_.visit([&](auto head) {
            using H = typename decltype(head)::type;
            if (H::classes(outputs()) == 0)
                throw argument_error(join({where.text(), ": the ", H::name,
                                           " head predicts real values, it has no accuracy (see its loss)"}));
            H::check_targets(y, outputs(), x.cols(), where);
            const auto a = run_forward(x, false);
            return static_cast<double>(H::count_correct(a, y)) / static_cast<double>(a.cols());
        });
    }

    Scalar loss(const Eigen::Ref<const Matrix>& x, const Targets<Scalar>& y, const Where& where) {
        check(x, y, where);
        const auto a = run_forward(x, false);
        auto f = f_.shape(a.rows(), a.cols());
        return head_.visit([&](auto head) { return decltype(head)::type::loss(a, y, f); });
    }

    Eigen::Index count_correct(const Targets<Scalar>& y, const Where& where) const {
        const View a =
            layers_.visit(layers_.size() - 1, [](const auto& layer) { return view(layer.output()); });
        return head_.visit([&](auto head) -> Eigen::Index {
            using H = typename decltype(head)::type;
            if (H::classes(outputs()) == 0) return -1;
            if (y.samples() != a.cols)
                throw shape_error(join({where.text(), ": targets for ", y.samples(),
                                        " samples, but the last forward pass had ", a.cols}));
            H::check_targets(y, outputs(), a.cols, where);
            return H::count_correct(a.map(), y);
        });
    }

    // Forward with dropout, the head's loss and ∇a(L+1), then backward (backward_step): one
    // function for compute_gradient and the fused descent, compiled once.
    Scalar train(const Eigen::Ref<const Matrix>& x, const Targets<Scalar>& y, const Where& where,
                 bool fused) {
        check(x, y, where);
        const auto a = run_forward(x, true);
        auto f = f_.shape(a.rows(), a.cols());
        auto grad = grad_a_.shape(a.rows(), a.cols());
        const Scalar l = head_.visit([&](auto head) {
            using H = typename decltype(head)::type;
            const Scalar value = H::loss(a, y, f);
            H::gradient(a, f, y, grad);
            return value;
        });
        run_backward(x, view(grad), true, fused);
        return l;
    }

    // h(k) = g(W(k) h̃(k-1) + b(k)) for k = 1, ..., L+1 with h̃(0) = x; h̃(k) = h(k) ⊙ m / (1 - p)
    // while training (dropout), h(k) otherwise. Returns a(L+1) (the output layer's g is the identity).
    Eigen::Map<const Matrix> run_forward(const Eigen::Ref<const Matrix>& x, bool training) {
        std::optional<Engine> fixed;
        Engine* engine = nullptr;
        if (training && dropout_on_) engine = masks_fixed_ ? &fixed.emplace(mask_seed_) : &dropout_engine_;
        View h = layers_.visit(0, [&](auto& layer) { return view(layer.forward(x)); });
        for (std::size_t k = 1; k < layers_.size(); ++k) {
            auto& drop = dropout_[k - 1];
            if (engine && drop.rate() > 0) h = view(drop.apply(h.map(), *engine));
            h = layers_.visit(k, [&](auto& layer) { return view(layer.forward(h.map())); });
        }
        return h.map();
    }

    // From ∇a(L+1) down to layer 1: layer k takes h̃(k-1), the input it saw, and ∇h̃(k); the
    // ∇h̃(k-1) = W(k)ᵀ ∇a(k) it returns goes through dropout's mask to give ∇h(k-1).
    void run_backward(const Eigen::Ref<const Matrix>& x, View grad, bool training, bool fused) {
        for (std::size_t k = layers_.size() - 1; k > 0; --k) {
            const bool dropped = training && dropout_on_ && dropout_[k - 1].rate() > 0;
            const View h_prev =
                dropped ? view(dropout_[k - 1].output())
                        : layers_.visit(k - 1, [](const auto& layer) { return view(layer.output()); });
            grad = layers_.visit(
                k, [&](auto& layer) { return backward_step(layer, h_prev.map(), grad.map(), true, fused); });
            if (dropped) grad = view(dropout_[k - 1].backward(grad.map()));
        }
        layers_.visit(0, [&](auto& layer) { return backward_step(layer, x, grad.map(), false, fused); });
    }

    void check_chain() const {
        for (std::size_t k = 1; k < layers_.size(); ++k) {
            const auto given = layers_.visit(k - 1, [](const auto& layer) { return layer.outputs(); });
            const auto taken = layers_.visit(k, [](const auto& layer) { return layer.inputs(); });
            if (given != taken)
                throw shape_error(join({Sequence::object, ": layer ", k + 1, " takes ", taken,
                                        " inputs but layer ", k, " gives ", given, " outputs"}));
        }
    }

    // One buffer for θ and one for ∇θ; the parameter blocks in layer order.
    void allocate() {
        constexpr Eigen::Index limit = std::numeric_limits<Eigen::Index>::max();
        Eigen::Index total = 0;
        std::size_t k = 0;
        layers_.for_each([&](const auto& layer) {
            const Eigen::Index in = layer.inputs(), out = layer.outputs();
            ++k;
            // out (in + 1) <= limit - total, without overflowing on the way.
            if (in == limit || out > (limit - total) / (in + 1))
                throw argument_error(join({Sequence::object, ": layer ", k, " of ", in, " x ", out,
                                           " takes the parameter count beyond what an Eigen::Index counts"}));
            blocks_.push_back({join({"W(", k, ")"}), total, out, in, true});
            blocks_.push_back({join({"b(", k, ")"}), total + out * in, out, 1, false});
            total += layer.parameter_count();
        });
        theta_ = Vector::Zero(total);
        grad_ = Vector::Zero(total);
        bind();
    }
    void bind() {
        Eigen::Index offset = 0;
        layers_.for_each([&](auto& layer) {
            layer.bind(theta_.data() + offset, grad_.data() + offset);
            offset += layer.parameter_count();
        });
    }

    [[no_unique_address]] HeadChoice head_;
    Vector theta_;
    Vector grad_;
    std::vector<ParameterBlock> blocks_;
    std::vector<Dropout<Scalar>> dropout_;  // [k - 1] on h(k), k = 1, ..., L
    bool dropout_on_ = false;               // some rate > 0
    Engine dropout_engine_;
    std::uint64_t mask_seed_ = 0;
    bool masks_fixed_ = false;
    // descend_guarded's bounds M_k on |θ| of layer k (-1: unknown), forgotten whenever θ is
    // writable from outside (parameters(), a layer by reference).
    std::vector<double> bounds_;

    Workspace<Scalar> f_, grad_a_;  // f(x) and ∇a(L+1) of the head
};

}  // namespace descent::detail
