/// The host/device function marker, and nothing else.
/// Physics in core/ is written once and compiled by both the host compiler and nvcc.
#pragma once

#if defined(__CUDACC__)
#  define NANOBRAGG_HD __host__ __device__
#else
#  define NANOBRAGG_HD
#endif
