# NANOBRAGG_OPENMP: AUTO uses OpenMP when found and falls back to serial with a warning
# (e.g. Apple clang without libomp); ON fails without it; OFF never uses it.
set(NANOBRAGG_WITH_OPENMP OFF)
if(NOT NANOBRAGG_OPENMP STREQUAL "OFF")
  find_package(OpenMP COMPONENTS CXX)
  if(OpenMP_CXX_FOUND)
    set(NANOBRAGG_WITH_OPENMP ON)
  elseif(NANOBRAGG_OPENMP STREQUAL "ON")
    message(FATAL_ERROR "NANOBRAGG_OPENMP=ON but no OpenMP was found for the C++ compiler")
  else()
    message(WARNING "OpenMP not found: building the CPU backend single-threaded")
  endif()
endif()
