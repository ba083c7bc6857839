/// Options: every setting of a nanoBragg run, in the C's internal units (metres, radians) and with
/// its sentinels for "not given" (NaN or a negative number), exactly as the C holds them after
/// parsing (the fields themselves: option_fields.def). The Python layer fills it from argv or
/// typed configs; prepare() derives the rest.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace nanobragg {

enum class Convention : int { Custom = 0, Adxv = 1, Mosflm = 2, Xds = 3, Dials = 4, Denzo = 5 };
enum class Pivot : int { Sample = 0, Beam = 1 };

constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();

/// Which part of the set-up a change of one field alone re-derives (option_fields.def).
enum class Reach : int { Setup = 0, Crystal = 1 };

/// Every setting of a run: the fields, their defaults and their reach are listed once, in
/// option_fields.def.
struct Options {
#define NANOBRAGG_FIELD(reach, type, name, ...) type name = __VA_ARGS__;
#define NANOBRAGG_ARRAY(reach, type, name, size, ...) type name[size] = {__VA_ARGS__};
#include "nanobragg/option_fields.def"
};

/// A structure-factor table as the C holds it: padded by one plane per axis, l fastest.
struct FTableData {
  std::vector<double> values;
  int h_min = 0, h_max = 0, k_min = 0, k_max = 0, l_min = 0, l_max = 0;
  std::int64_t hkls = 0;  // 0 = no table
};

/// Explicit sources from a -sourcefile: position (m) and wavelength (m) per source.
struct SourceList {
  std::vector<double> xyz;     // 3 per source, sample to source
  std::vector<double> lambda;  // per source
  std::vector<double> weight;  // per source as read (used only with use_source_weights, Q17)
  // A spectrum: wavelengths (m) and weights (> 0) replacing the -dispersion wavelengths; every
  // kept divergence direction gets one source per line (empty: -dispersion/-dispsteps as the C).
  std::vector<double> spectrum_lambda, spectrum_weight;
};

}  // namespace nanobragg
