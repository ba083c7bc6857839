/// Options: every setting of a nanoBragg run, in the C's internal units (metres, radians) and with
/// its sentinels for "not given" (NaN or a negative number), exactly as the C holds them after
/// parsing. The Python layer fills it from argv or typed configs; prepare() derives the rest.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace nanobragg {

enum class Convention : int { Custom = 0, Adxv = 1, Mosflm = 2, Xds = 3, Dials = 4, Denzo = 5 };
enum class Pivot : int { Sample = 0, Beam = 1 };

constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();

struct Options {
  // Detector size and geometry.
  int fpixels = 0, spixels = 0;  // 0 = derive from detsize
  double pixel_size = 0.1e-3;
  double detsize_f = 102.4e-3, detsize_s = 102.4e-3;
  double distance = 100.0e-3, close_distance = kUnset;
  double Xbeam = kUnset, Ybeam = kUnset, Xclose = kUnset, Yclose = kUnset;
  double ORGX = kUnset, ORGY = kUnset;
  Pivot pivot = Pivot::Beam;
  Convention convention = Convention::Mosflm;
  // Initial vectors (the CUSTOM convention keeps those not given; the others overwrite them).
  double fdet[3] = {0, 0, 1}, sdet[3] = {0, -1, 0}, odet[3] = {1, 0, 0};
  double beam[3] = {1, 0, 0}, polar[3] = {0, 0, 1}, spindle[3] = {0, 0, 1}, twotheta_axis[3] = {0, 1, 0};
  double detector_rotx = 0, detector_roty = 0, detector_rotz = 0, twotheta = 0;
  bool curved_detector = false, point_pixel = false;
  int roi_xmin = -1, roi_xmax = -1, roi_ymin = -1, roi_ymax = -1;

  // Sensor.
  double detector_mu = -1.0, detector_thick = 0.0, detector_thickstep = -1.0;
  int detector_thicksteps = -1;

  // Sampling.
  int oversample = -1;
  bool oversample_thick = false, oversample_polar = false, oversample_omega = false;
  double phi0 = 0.0, osc = -1.0, phistep = -1.0;
  int phisteps = -1;

  // Beam.
  double lambda0 = 1.0e-10;
  double dispersion = 0.0, dispstep = -1.0;
  int dispsteps = -1;
  double hdivrange = -1.0, hdivstep = -1.0, vdivrange = -1.0, vdivstep = -1.0;
  int hdivsteps = -1, vdivsteps = -1;
  bool round_div = true;
  double fluence = 125932015286227086360700780544.0;
  double flux = 0.0, exposure = 1.0, beamsize = 1e-4;
  double polarization = 0.0;  // Kahn factor
  bool nopolar = false;
  double dmin = 0.0;

  // Crystal.
  bool user_cell = false;
  double cell[6] = {0, 0, 0, 0, 0, 0};  // a, b, c (Angstrom), alpha, beta, gamma (radians)
  bool has_matrix = false;
  double matrix[9] = {};   // MOSFLM A matrix as read (row r = component r of a*, b*, c*), wavelength folded in
  int misset_mode = 0;     // 0 none, 1 angles given, -1 random
  double misset[3] = {0, 0, 0};
  double Na = 1, Nb = 1, Nc = 1;
  double sample_x = 0, sample_y = 0, sample_z = 0;
  int shape = 0;  // CrystalShape
  double fudge = 1.0;
  double mosaic_spread = -1.0;
  int mosaic_domains = -1;
  long mosaic_seed = -12345678;
  long misset_seed = 0;  // the C defaults to -time(); callers choose
  int interpolate = 2;   // 2 auto, 1 on, 0 off
  double default_F = 0.0;
  double water_size = 0.0;

  // Physics switches beyond the C (all off = the C's behaviour, quirks included).
  // The one switch for corrected physics: a phi step at exactly 0 uses the unrotated crystal
  // instead of a stale orientation (Q1), and -cell builds a triclinic reciprocal cell that is
  // exactly dual to the direct cell (Q31). Off = the C's behaviour.
  bool corrected = false;

  // Arithmetic: false = the fast lattice path (polynomial sin(pi x), within 1e-12 of the C);
  // true = libm calls in the C's order, bit-identical to nanoBragg.c.
  bool exact_math = false;

  // Source weights (beyond the C, which ignores them, Q17): each source's contribution is
  // multiplied by its weight divided by the mean weight, so equal weights give the C's image bit
  // for bit and the total fluence is kept. A spectrum (SourceList::spectrum_*) is always weighted.
  bool use_source_weights = false;
};

/// Every field of Options, for code that must visit them all (comparison, the Python binding):
/// X(name) per scalar field and A(name) per fixed-size array field.
#define NANOBRAGG_OPTION_FIELDS(X, A)                                                                  \
  X(fpixels) X(spixels) X(pixel_size) X(detsize_f) X(detsize_s) X(distance) X(close_distance) X(Xbeam)  \
  X(Ybeam) X(Xclose) X(Yclose) X(ORGX) X(ORGY) X(pivot) X(convention) A(fdet) A(sdet) A(odet) A(beam)   \
  A(polar) A(spindle) A(twotheta_axis) X(detector_rotx) X(detector_roty) X(detector_rotz) X(twotheta)   \
  X(curved_detector) X(point_pixel) X(roi_xmin) X(roi_xmax) X(roi_ymin) X(roi_ymax) X(detector_mu)     \
  X(detector_thick) X(detector_thickstep) X(detector_thicksteps) X(oversample) X(oversample_thick)      \
  X(oversample_polar) X(oversample_omega) X(phi0) X(osc) X(phistep) X(phisteps) X(lambda0)             \
  X(dispersion) X(dispstep) X(dispsteps) X(hdivrange) X(hdivstep) X(vdivrange) X(vdivstep) X(hdivsteps) \
  X(vdivsteps) X(round_div) X(fluence) X(flux) X(exposure) X(beamsize) X(polarization) X(nopolar)      \
  X(dmin) X(user_cell) A(cell) X(has_matrix) A(matrix) X(misset_mode) A(misset) X(Na) X(Nb) X(Nc)       \
  X(sample_x) X(sample_y) X(sample_z) X(shape) X(fudge) X(mosaic_spread) X(mosaic_domains)            \
  X(mosaic_seed) X(misset_seed) X(interpolate) X(default_F) X(water_size) X(corrected) X(exact_math)   \
  X(use_source_weights)

/// The fields that only the crystal, its phi sampling and mosaic domains, or the per-pixel kernel
/// read: changing them alone leaves the detector and the sources as they are (reconfigure.hpp).
#define NANOBRAGG_CRYSTAL_OPTION_FIELDS(X, A)                                                           \
  X(user_cell) A(cell) X(has_matrix) A(matrix) X(misset_mode) A(misset) X(misset_seed) X(Na) X(Nb)     \
  X(Nc) X(sample_x) X(sample_y) X(sample_z) X(shape) X(fudge) X(mosaic_spread) X(mosaic_domains)       \
  X(mosaic_seed) X(phi0) X(osc) X(phistep) X(phisteps) X(interpolate) X(default_F) X(corrected)        \
  X(exact_math) X(oversample) X(oversample_thick) X(oversample_polar) X(oversample_omega) X(nopolar)   \
  X(polarization) X(dmin) X(curved_detector) X(point_pixel)

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
