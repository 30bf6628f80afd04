#pragma once
// Random inputs for the examples, the same on every platform: descent::Engine's sequence
// (std::mt19937_64) is fixed by the standard, std::uniform_real_distribution's is not.
#include <descent/descent.hpp>

namespace examples {

// A number drawn uniformly from [lo, hi): the top 53 bits of one draw scaled to [0, 1).
inline double uniform(descent::Engine& engine, double lo, double hi) {
    return lo + (hi - lo) * (static_cast<double>(engine() >> 11) * 0x1.0p-53);
}

}  // namespace examples
