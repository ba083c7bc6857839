/// noisify.c's point-spread function (apply_psf, L716-L924): a Gaussian or fiber-optic kernel
/// integrated over pixels, scattered from every positive pixel, with the photons outside the
/// rendering radius added back uniformly. Same arithmetic and per-pixel order as the C, so the
/// blurred image is bit-identical; output rows are split between threads (each pixel still sums
/// its sources in the C's raster order).
#pragma once
#include <cstdint>
#include <vector>

namespace nanobragg::noisify {

enum class PsfType { none = 0, gauss = 1, fiber = 2 };

struct PsfSpec {
  PsfType type = PsfType::none;
  double fwhm_pixels = 0.0;  // full width at half maximum in pixels
  int user_radius = 0;       // -psf_radius: 0 = automatic; negative = the C's "render nothing" (N7)
  bool corrected = false;    // no wrap-around at the right edge; r = 1 where the C's radius is NaN
};

/// What apply_psf() did, for the console lines the C prints from inside it.
struct PsfReport {
  bool applied = false;         // false: type none, empty image or fwhm <= 0 (input copied)
  bool auto_radius = false;     // the kernel radius was chosen from the maximum (R_u <= 0)
  double max_input = 0.0;       // that maximum ("maximum input photon/pixel")
  bool no_photons = false;      // maximum <= 0: the C returns an all-zero image
  int auto_selected = 0;        // the automatic radius as printed ("auto-selected psf_radius")
  int kernel_radius = 0;        // radius of the cached kernel (auto_selected cut to the image)
  double lost_photons = 0.0;    // photons outside each pixel's radius, added back uniformly
  std::int64_t edge_wrapped = 0;  // kernel hits past the right edge that land on the next row (N6)
};

/// Blurs in (width*height floats, raster order) into out (resized to width*height).
/// Throws std::invalid_argument where noisify.c computes a NaN radius and crashes (automatic
/// Gaussian radius with pixel values in (0, 0.01), or NaN pixels) unless spec.corrected.
PsfReport apply_psf(const float* in, int width, int height, const PsfSpec& spec, std::vector<float>& out,
                    int threads = 0);

/// The cached kernel of the given radius ((2R+1)^2 values, row dy, column dx), as the C builds it.
std::vector<double> psf_kernel(PsfType type, double fwhm_pixels, int radius);

}  // namespace nanobragg::noisify
