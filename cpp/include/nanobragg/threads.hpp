/// The OpenMP thread count a stage runs on: the caller's (> 0) or all (0); 1 without OpenMP.
#pragma once

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace nanobragg {

inline int thread_count(int requested) {
#if defined(_OPENMP)
  return requested > 0 ? requested : omp_get_max_threads();
#else
  (void)requested;
  return 1;
#endif
}

}  // namespace nanobragg
