/// Which instruction-set copy of the CPU renderer runs on this machine.
#pragma once

namespace nanobragg::cpu {

/// "avx512f", "avx2" or "default" (the clone the loader picks for simulate_omp.cpp's hot loop on
/// this CPU), or "baseline" where the build has no runtime dispatch (not x86-64 Linux with GCC).
const char* simd_level();

}  // namespace nanobragg::cpu
