#pragma once
// A layer's forward and backward passes are compiled once, not inlined into each network that
// calls them. Inlined, the compiler may contract a·b + c into a fused multiply-add in one caller
// and not in another (GCC does under its default -ffp-contract=fast), so that Mlp and Network,
// which call the same layer code, would differ in the last bit. A call per layer and batch costs
// nothing beside the products inside it.
#if defined(_MSC_VER)
#define DESCENT_LAYER_CALL __declspec(noinline)
#else
#define DESCENT_LAYER_CALL [[gnu::noinline]]
#endif
