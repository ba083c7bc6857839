# CUDA toolchain for the CUDA backend; included only when NANOBRAGG_WITH_CUDA is on, so CPU-only
# machines never need nvcc. Picks the GPU architectures, enables the CUDA language and finds the
# toolkit, failing loudly (this runs for NANOBRAGG_CUDA=ON, or for AUTO after both were found).

# ---- architectures (before enable_language, which would otherwise pick nvcc's default) -------
# Precedence: -DCMAKE_CUDA_ARCHITECTURES=..., then the CUDAARCHS environment variable (CMake reads
# it itself), then the GPU that nvidia-smi sees, then a fat build.
if(NOT CMAKE_CUDA_ARCHITECTURES AND NOT DEFINED ENV{CUDAARCHS})
  set(_nb_arch_source "")
  find_program(NANOBRAGG_NVIDIA_SMI nvidia-smi)
  if(NANOBRAGG_NVIDIA_SMI)
    execute_process(
      COMMAND ${NANOBRAGG_NVIDIA_SMI} --query-gpu=compute_cap --format=csv,noheader
      OUTPUT_VARIABLE _nb_caps RESULT_VARIABLE _nb_smi_rc ERROR_QUIET OUTPUT_STRIP_TRAILING_WHITESPACE
      TIMEOUT 20)
    if(_nb_smi_rc EQUAL 0 AND _nb_caps MATCHES "^[0-9]+\\.[0-9]+")
      string(REPLACE "\n" ";" _nb_caps "${_nb_caps}")
      set(_nb_archs "")
      foreach(_cap IN LISTS _nb_caps)
        string(STRIP "${_cap}" _cap)
        if(_cap MATCHES "^([0-9]+)\\.([0-9]+)$")
          list(APPEND _nb_archs "${CMAKE_MATCH_1}${CMAKE_MATCH_2}")
        endif()
      endforeach()
      list(REMOVE_DUPLICATES _nb_archs)
      if(_nb_archs)
        set(CMAKE_CUDA_ARCHITECTURES "${_nb_archs}" CACHE STRING "CUDA architectures (from nvidia-smi)")
        set(_nb_arch_source "the visible GPU (nvidia-smi)")
      endif()
    endif()
  endif()
  if(NOT _nb_arch_source)
    # No GPU visible (containers, login nodes, wheel builders): `native` would fail here, so build
    # every major architecture with PTX of the newest for JIT on future GPUs. With CUDA 13 and
    # CMake >= 3.23 that is sm_75, 80, 90 (Hopper), 100, 110, 120; sm_86/89 run the sm_80 code.
    # About 6 s of ptxas per architecture per kernel file on a 2-core box, so fine for wheels.
    if(CMAKE_VERSION VERSION_GREATER_EQUAL 3.23)
      set(CMAKE_CUDA_ARCHITECTURES all-major CACHE STRING "CUDA architectures (fat build: no GPU visible)")
    else()
      # CMake < 3.23 has no all-major; this list suits CUDA 11.8 to 12.x.
      set(CMAKE_CUDA_ARCHITECTURES "70-real;75-real;80-real;86-real;89-real;90" CACHE STRING
          "CUDA architectures (fat build: no GPU visible)")
    endif()
    set(_nb_arch_source "a fat build: no GPU visible")
  endif()
  # Remember what was chosen automatically, so a re-configure still reports where it came from.
  set(_NANOBRAGG_CUDA_ARCH_AUTO "${CMAKE_CUDA_ARCHITECTURES}" CACHE INTERNAL "")
  set(_NANOBRAGG_CUDA_ARCH_AUTO_SOURCE "${_nb_arch_source}" CACHE INTERNAL "")
elseif(DEFINED _NANOBRAGG_CUDA_ARCH_AUTO AND "${CMAKE_CUDA_ARCHITECTURES}" STREQUAL "${_NANOBRAGG_CUDA_ARCH_AUTO}")
  set(_nb_arch_source "${_NANOBRAGG_CUDA_ARCH_AUTO_SOURCE}")
else()
  set(_nb_arch_source "the user (CMAKE_CUDA_ARCHITECTURES or CUDAARCHS)")
endif()

# ---- language and toolkit --------------------------------------------------------------------
include(CheckLanguage)
check_language(CUDA)
if(NOT CMAKE_CUDA_COMPILER)
  message(FATAL_ERROR "NANOBRAGG_CUDA=${NANOBRAGG_CUDA} but no CUDA compiler (nvcc) was found: put nvcc on PATH, "
                      "set CMAKE_CUDA_COMPILER, or configure with -DNANOBRAGG_CUDA=OFF")
endif()
enable_language(CUDA)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CUDA_STANDARD_REQUIRED ON)
# Only the driver is needed at run time: the wheel carries the runtime statically.
set(CMAKE_CUDA_RUNTIME_LIBRARY Static)
find_package(CUDAToolkit REQUIRED)

# What the summary prints: the value, and what all/all-major expand to.
set(NANOBRAGG_CUDA_ARCHITECTURES_RESOLVED "${CMAKE_CUDA_ARCHITECTURES}")
if(CMAKE_CUDA_ARCHITECTURES STREQUAL "all-major" AND CMAKE_CUDA_ARCHITECTURES_ALL_MAJOR)
  set(NANOBRAGG_CUDA_ARCHITECTURES_RESOLVED "all-major = ${CMAKE_CUDA_ARCHITECTURES_ALL_MAJOR}")
elseif(CMAKE_CUDA_ARCHITECTURES STREQUAL "all" AND CMAKE_CUDA_ARCHITECTURES_ALL)
  set(NANOBRAGG_CUDA_ARCHITECTURES_RESOLVED "all = ${CMAKE_CUDA_ARCHITECTURES_ALL}")
endif()
set(NANOBRAGG_CUDA_ARCHITECTURES_SOURCE "${_nb_arch_source}")
message(STATUS "CUDA ${CUDAToolkit_VERSION}: architectures ${NANOBRAGG_CUDA_ARCHITECTURES_RESOLVED} from ${_nb_arch_source}")

# ---- the backend library -----------------------------------------------------------------------
# simulate.cu holds the kernels and is compiled twice, once per Real. The float64 copy gets
# --fmad=false: nvcc would otherwise contract a*b+c into FMA, and the CPU build uses
# -ffp-contract=off, so without it float64 images would differ from the CPU's (and the C's) in the
# last bits. The float32 copy keeps nvcc's FMA default (faster; float32 is never compared bit for bit).
#
# Separable compilation (RDC) stays off: every device function is an inline NANOBRAGG_HD function
# in a core/ header, and each kernel is launched from the file that defines it, so no device link
# step is needed; whole-file compilation also inlines pixel_intensity() fully.
function(nanobragg_add_cuda_kernels target real_double)
  add_library(${target} STATIC ${PROJECT_SOURCE_DIR}/cpp/src/cuda/simulate.cu)
  target_link_libraries(${target} PUBLIC nanobragg_core)  # include paths; no code is used
  target_compile_definitions(${target} PRIVATE NANOBRAGG_CUDA_REAL_DOUBLE=${real_double})
  if(real_double)
    target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:--fmad=false>)
  endif()
  set_target_properties(${target} PROPERTIES
    CUDA_SEPARABLE_COMPILATION OFF
    CUDA_RUNTIME_LIBRARY Static
    POSITION_INDEPENDENT_CODE ON)
endfunction()
