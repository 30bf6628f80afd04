#pragma once
// Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 28x28 grey images of 10
// kinds of clothing, 60000 to train on and 10000 to test on, in the IDX files
// of the original distribution.
//
//   auto [train, test] = descent::load_fashion_mnist<float>("/usr/share/datasets/fashion-mnist");
#include <array>
#include <concepts>
#include <filesystem>
#include <string>

#include "../error.hpp"
#include "dataset.hpp"
#include "idx.hpp"

namespace descent {

// The class names, by label.
inline constexpr std::array<const char*, 10> fashion_mnist_classes = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};

template <std::floating_point Scalar>
struct FashionMnist {
    Dataset<Scalar> train;  // 784 x 60000
    Dataset<Scalar> test;   // 784 x 10000
};

namespace detail {

// <dir>/<name>.gz, or <dir>/<name> when only the unpacked file is there.
inline std::filesystem::path fashion_mnist_file(const std::filesystem::path& dir, const std::string& name) {
    const auto packed = dir / (name + ".gz");
    const auto plain = dir / name;
    return !std::filesystem::exists(packed) && std::filesystem::exists(plain) ? plain : packed;
}

template <std::floating_point Scalar>
Dataset<Scalar> load_fashion_mnist_part(const std::filesystem::path& dir, const std::string& part) {
    const auto images = fashion_mnist_file(dir, part + "-images-idx3-ubyte");
    Dataset<Scalar> data = load_idx<Scalar>(images, fashion_mnist_file(dir, part + "-labels-idx1-ubyte"),
                                            static_cast<int>(fashion_mnist_classes.size()));
    if (data.features() != 28 * 28)
        throw data_error(images.string() + ": images of " + std::to_string(data.features()) +
                         " pixels, expected 28x28 = 784 for Fashion-MNIST");
    return data;
}

}  // namespace detail

// The training and test sets from `dir`, which holds train-images-idx3-ubyte,
// train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte,
// each .gz or not. Pixels are scaled to [0, 1]; labels are in [0, 10).
// throws: io_error (a file missing or unreadable), data_error (a file damaged,
//         or not 28x28 images with labels in [0, 10)), naming the file.
template <std::floating_point Scalar = float>
FashionMnist<Scalar> load_fashion_mnist(const std::filesystem::path& dir) {
    return {detail::load_fashion_mnist_part<Scalar>(dir, "train"),
            detail::load_fashion_mnist_part<Scalar>(dir, "t10k")};
}

}  // namespace descent
