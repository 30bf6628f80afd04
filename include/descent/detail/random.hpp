#pragma once
// Random numbers that repeat bit for bit on every platform.
//
// std::mt19937_64's sequence is fixed by the standard, but the standard
// distributions and std::shuffle are not: libstdc++ and libc++ differ. So the
// few draws descent needs are written out here.
#include <cstdint>
#include <random>
#include <span>
#include <utility>

namespace descent {

// The engine descent draws from: seeded explicitly, never from the clock.
using Engine = std::mt19937_64;

namespace detail {

// A double in [0, 1) from the top 53 bits of one draw.
inline double uniform01(Engine& engine) {
    return static_cast<double>(engine() >> 11) * 0x1.0p-53;
}

// An integer in [0, n), without modulo bias (rejection of the short tail).
inline std::uint64_t uniform_below(Engine& engine, std::uint64_t n) {
    const std::uint64_t limit = Engine::max() - Engine::max() % n;
    std::uint64_t x = engine();
    while (x >= limit) x = engine();
    return x % n;
}

// Fisher-Yates, so that the same seed gives the same order everywhere.
template <class T>
void shuffle(std::span<T> items, Engine& engine) {
    for (std::size_t i = items.size(); i > 1; --i) {
        const auto j = static_cast<std::size_t>(uniform_below(engine, i));
        std::swap(items[i - 1], items[j]);
    }
}

}  // namespace detail
}  // namespace descent
