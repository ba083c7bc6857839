/// The host/device function marker, and the forced-inline marker of the hot path.
/// Physics in core/ is written once and compiled by both the host compiler and nvcc.
#pragma once

#if defined(__CUDACC__)
#  define NANOBRAGG_HD __host__ __device__
#else
#  define NANOBRAGG_HD
#endif

// The per-pixel kernel must be inlined into each CPU-dispatch clone (avx2, avx512f, default) so
// the clone's instruction set reaches the inner loops; GCC would not inline it on its own.
#if defined(__CUDACC__)
#  define NANOBRAGG_FORCEINLINE __forceinline__
#elif defined(__GNUC__)
#  define NANOBRAGG_FORCEINLINE inline __attribute__((always_inline))
#else
#  define NANOBRAGG_FORCEINLINE inline
#endif

// A loop over independent lanes the host compiler should vectorize (OpenMP simd; nothing on GPU).
#if defined(_OPENMP) && !defined(__CUDACC__)
#  define NANOBRAGG_SIMD _Pragma("omp simd")
#else
#  define NANOBRAGG_SIMD
#endif
