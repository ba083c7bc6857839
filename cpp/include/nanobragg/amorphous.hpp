/// The host side of nonBragg's amorphous-scattering model: its table reader, its set-up (the
/// detector, sampling and sources come from the shared nanoBragg set-up) and the CPU render.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "nanobragg/core/amorphous.hpp"
#include "nanobragg/setup.hpp"

namespace nanobragg {

/// Columns of a text table as nonBragg.c's read_text_file() reads them (L2201-L2301): missing
/// values NaN, a comment line a row of zeros. non_numeric_rows: rows whose first token is not a
/// number (the C reads them as data, B6).
struct TextColumns {
  std::vector<std::vector<double>> columns;
  std::vector<long> non_numeric_rows;  // 0-based row numbers
  std::vector<long> file_lines;        // 1-based line of each row
  long rows = 0;
};
/// Throws InputError naming the path when it cannot be opened.
TextColumns read_text_columns(const std::string& path, int ncols);

/// The padded table of nonBragg.c (L1232-L1255), stol in 1/m.
struct StolTableData {
  std::vector<double> stol, F;
  std::vector<int> bucket;  // look-up guesses on a monotonic table (StolTable::bucket)
  double bucket_origin = 0, bucket_scale = 0;
  bool monotonic = true;    // stol never decreases
  long first_decrease = -1; // row (0-based, of the rows given) where stol first goes back
};
/// Pads rows (stol as in the file, F with NaN for missing) as the C does; mult converts stol to 1/m.
StolTableData pad_stol_table(const std::vector<double>& stol, const std::vector<double>& F, double mult);

/// The settings of nonBragg that nanoBragg's Options do not hold.
struct AmorphousOptions {
  double sample_x = 1e-4, sample_y = 1e-4, sample_z = 1e-4;  // m
  double density = 1.0e6;                                    // g/m^3
  double molecules = 0.0;                                    // 0 = from the density
  double molecular_weight = 18.0;                            // g/mol
  double source_distance = 10.0;                             // m
  bool Fmap = false;
  bool corrected = false;  // order-independent look-up (the table must then increase strictly)
};

/// Everything derived before the pixel loop, as the C derives it.
struct AmorphousSetup {
  DetectorGeometry det;   // Xbeam/Ybeam/Xclose/Yclose below are nonBragg's values
  Sampling sampling;
  double detsize_x = 0, detsize_y = 0;  // before the ceil (the header's BEAM_CENTER_Y uses it)
  double Xbeam = 0, Ybeam = 0, Xclose = 0, Yclose = 0, distance = 0, close_distance = 0;
  int roi_xmin = 0, roi_xmax = 0, roi_ymin = 0, roi_ymax = 0;
  std::vector<double> source_dir, source_pol_dir, source_lambda, source_weight, source_raw_xyz;
  StolTableData table;
  Vec3d polar_axis{};  // as polarization_factor sees it on every call
  double fluence = 0, molecules = 0, density = 0, molecular_weight = 0;
  double sample_x = 0, sample_y = 0, sample_z = 0;
  double kahn = 0;
  bool nopolar = false, curved = false, point_pixel = false, Fmap = false, corrected = false;
  int oversample = 1;
  double steps = 1;
  std::vector<std::string> warnings;  // the C's WARNING lines, in order

  AmorphousParams<double> params() const;
};

/// Derives the set-up. opt holds the shared settings with nonBragg's meaning of Xbeam, Xclose,
/// ORGX (no half-pixel shift) and its pixel count rule; sources: -sourcefile rows or empty.
AmorphousSetup prepare_amorphous(const Options& opt, const AmorphousOptions& a, StolTableData table,
                                 const SourceList& sources);

/// What the -img extraction and -printout need of each pixel's last evaluation.
struct LastEvaluation {
  std::vector<double> stol, polar, omega;
  std::vector<int> nearest;
};

struct AmorphousStats {
  double omega_sum = 0;
  std::int64_t rendered = 0;
  std::int64_t serial_rows = 0;  // rows rendered again in order (walk-state ties) or all rows
};

/// What rendering one row leaves for the in-order pass (finish_amorphous_rows).
struct AmorphousRow {
  double omega_sum = 0;
  std::int64_t rendered = 0;
  WalkState walk{0, 0, 0, 1};  // after the row's last look-up; unknown_used: it needs the pass
};

/// The in-order pass on a monotonic table without -corrected, after rows were rendered each from
/// an unknown walk state (row 0 from the C's start, or not): re-renders in the C's order, on the
/// calling thread, every row whose look-ups depended on the state coming in, then adds every
/// row's statistics to st. The CUDA backend ends with it too.
void finish_amorphous_rows(const AmorphousSetup& setup, float* image, std::vector<AmorphousRow>& rows,
                           LastEvaluation* last, AmorphousStats& st);

/// Renders into image (fpixels*spixels floats; pixels outside the ROI are left alone), in
/// parallel where the result cannot depend on the order. add: accumulate into the image instead
/// of storing (a background on top of an existing image). last: optional per-pixel record.
AmorphousStats render_amorphous(const AmorphousSetup& setup, float* image, int threads, bool add,
                                LastEvaluation* last);

}  // namespace nanobragg
