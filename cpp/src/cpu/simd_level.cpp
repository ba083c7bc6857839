/// The SIMD level in use, asked of the same dispatcher that picks the renderer's clone: GCC
/// function multiversioning over the targets of NANOBRAGG_CLONES in simulate_omp.cpp (keep the
/// condition and the target list identical), so the answer is the loader's choice, not a guess.
#include "nanobragg/cpu/simd_level.hpp"

namespace nanobragg::cpu {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
namespace {
__attribute__((target("default"))) const char* dispatched() { return "default"; }
__attribute__((target("avx2"))) const char* dispatched() { return "avx2"; }
__attribute__((target("avx512f"))) const char* dispatched() { return "avx512f"; }
}  // namespace

const char* simd_level() { return dispatched(); }
#else
const char* simd_level() { return "baseline"; }
#endif

}  // namespace nanobragg::cpu
