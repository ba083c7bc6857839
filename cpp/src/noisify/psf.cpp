/// apply_psf() of noisify.c with its arithmetic, bounds and order (NOISIFY.md section 7).
#include "nanobragg/noisify/psf.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <stdexcept>
#include <string>

#include "nanobragg/threads.hpp"

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace nanobragg::noisify {

namespace {
constexpr double fiber_g_per_fwhm = 0.652383013252053;  // fwhm = sqrt(2^(2/3) - 1) * g, as the C writes it
constexpr double photonloss_factor = 10.0;

// Unit-volume Gaussian of FWHM 1 integrated from the origin (ngauss2D_integ), and over a pixel.
double ngauss2D_integ(double x, double y) {
  return 0.125 * (std::erf(2 * x * std::sqrt(std::log(2.0))) * std::erf(y * std::sqrt(std::log(16.0))) *
                  std::sqrt(std::log(16.0) / std::log(2.0)));
}
double ngauss2D_pixel(double x, double y, double pix) {
  return ngauss2D_integ(x + pix / 2., y + pix / 2.) - ngauss2D_integ(x + pix / 2., y - pix / 2.) -
         ngauss2D_integ(x - pix / 2., y + pix / 2.) + ngauss2D_integ(x - pix / 2., y - pix / 2.);
}
// The fiber-optic PSF g/(2 pi)/(g^2 + r^2)^(3/2) integrated likewise.
double fiber2D_integ(double x, double y, double g) {
  return std::atan((x * y) / (g * std::sqrt(g * g + x * x + y * y))) / 2.0 / M_PI;
}
double fiber2D_pixel(double x, double y, double g, double pix) {
  return fiber2D_integ(x + pix / 2., y + pix / 2., g) - fiber2D_integ(x + pix / 2., y - pix / 2., g) -
         fiber2D_integ(x - pix / 2., y + pix / 2., g) + fiber2D_integ(x - pix / 2., y - pix / 2., g);
}

// A radius the C computes in double and stores in an int. NaN (where the C crashes) comes back
// as INT_MIN so the caller can tell; values past INT_MAX (undefined in C) are cut to it.
int to_radius(double r) {
  if (std::isnan(r)) return INT_MIN;
  return r >= double(INT_MAX) ? INT_MAX : int(r);
}

[[noreturn]] void nan_radius() {
  throw std::invalid_argument(
      "-psf gauss with an automatic radius: pixel values between 0 and 0.01 photons (or NaN) give "
      "noisify.c a NaN rendering radius, where it crashes; give -psf_radius, or -corrected for radius 1 there");
}
}  // namespace

std::vector<double> psf_kernel(PsfType type, double fwhm_pixels, int radius) {
  const int size = 2 * radius + 1;
  const double g = fwhm_pixels * fiber_g_per_fwhm;
  std::vector<double> kernel(std::size_t(size) * size, 0.0);
  for (int dy = -radius; dy <= radius; ++dy) {
    for (int dx = -radius; dx <= radius; ++dx) {
      if (dx * dx + dy * dy > radius * radius) continue;
      const std::size_t k = std::size_t(size) * (size / 2 + dy) + size / 2 + dx;
      if (type == PsfType::gauss) kernel[k] = ngauss2D_pixel(dx / fwhm_pixels, dy / fwhm_pixels, 1.0 / fwhm_pixels);
      if (type == PsfType::fiber) kernel[k] = fiber2D_pixel(dx, dy, g, 1.0);
    }
  }
  return kernel;
}

PsfReport apply_psf(const float* in, int width, int height, const PsfSpec& spec, std::vector<float>& out,
                    int threads) {
  PsfReport rep;
  const std::int64_t pixels = std::int64_t(width) * height;
  if (spec.type == PsfType::none || pixels == 0 || !(spec.fwhm_pixels > 0.0)) {
    out.assign(in, in + pixels);
    return rep;
  }
  rep.applied = true;
  out.assign(std::size_t(pixels), 0.0f);
  const double w = spec.fwhm_pixels;
  const double g = w * fiber_g_per_fwhm;
  const int maxwidth = std::max(width, height);
  const bool gauss = spec.type == PsfType::gauss;

  // Kernel radius (L770-L806).
  int radius = spec.user_radius;
  if (radius <= 0) {
    rep.auto_radius = true;
    double max_I = 0.0;
    for (std::int64_t i = 0; i < pixels; ++i) {
      if (max_I < in[i]) max_I = in[i];
    }
    rep.max_input = max_I;
    if (max_I <= 0.0) {
      rep.no_photons = true;
      return rep;
    }
    const double lost = std::sqrt(max_I) / photonloss_factor;
    radius = gauss ? to_radius(1 + std::ceil(std::sqrt(-std::log(lost / max_I) / std::log(4.0) / 2) * w))
                   : to_radius(1 + std::ceil(g * (max_I / lost)));
    if (radius == INT_MIN) {
      if (!spec.corrected) nan_radius();
      radius = 1;
    }
    if (radius == 0) radius = 1;
    rep.auto_selected = radius;  // printed before the cut to the image size below
  }
  if (radius > maxwidth) radius = maxwidth;
  rep.kernel_radius = radius;
  const int ksize = 2 * radius + 1;
  const std::vector<double> kernel = psf_kernel(spec.type, w, radius);

  // Per-source radius and lost photons (L836-L873); 0 marks a pixel that is skipped.
  // What a source pixel keeps outside its radius r: v * exp(-ln16 (r/w)^2) (gauss) or
  // v * g / sqrt(g^2 + r^2) (fiber). The factor is a pure function of |r| (even in r), so it is
  // taken from a table of the radii up to 4096 rather than recomputed per pixel: same values.
  auto loss_of_radius = [&](int r) {
    if (!gauss) return std::sqrt(g * g + r * r);
    double rsq = r;
    rsq = rsq / w;
    rsq = rsq * rsq;
    return std::exp(-std::log(16.0) * rsq);
  };
  const int table_radii = std::min(maxwidth, 4096);
  std::vector<double> loss_by_radius(std::size_t(table_radii) + 1);
  for (int r = 1; r <= table_radii; ++r) loss_by_radius[std::size_t(r)] = loss_of_radius(r);

  std::vector<int> src_radius(std::size_t(pixels), 0);
  std::vector<double> src_lost(std::size_t(pixels), 0.0);
  bool nan_seen = false;
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) num_threads(thread_count(threads)) reduction(|| : nan_seen)
#endif
  for (std::int64_t i = 0; i < pixels; ++i) {
    const float v = in[i];
    if (v <= 0.0) continue;
    if (spec.corrected && !std::isfinite(v)) continue;
    int r;
    if (spec.user_radius != 0) {
      r = spec.user_radius;
    } else {
      const double lost = std::sqrt(double(v)) / photonloss_factor;
      r = gauss ? to_radius(1 + std::ceil(std::sqrt(-std::log(lost / v) / std::log(16.0)) * w))
                : to_radius(1 + std::ceil(g * (v / lost)));
      if (r == INT_MIN) {
        nan_seen = true;
        r = 1;
      }
    }
    if (r == 0) r = 1;
    if (r > maxwidth) r = maxwidth;
    const int table_r = r < 0 ? (r >= -table_radii ? -r : 0) : (r <= table_radii ? r : 0);
    const double f = table_r ? loss_by_radius[std::size_t(table_r)] : loss_of_radius(r);
    const double lost = gauss ? v * f : v * g / f;
    src_radius[std::size_t(i)] = r;
    src_lost[std::size_t(i)] = lost;
  }
  if (nan_seen && !spec.corrected) nan_radius();
  double total_lost = 0.0;
  for (std::int64_t i = 0; i < pixels; ++i) total_lost += src_lost[std::size_t(i)];  // raster order, as the C

  // Scatter (L875-L912). Output rows are cut into bands; a band visits, in raster order, every
  // source that can reach it and keeps only its own hits, so each output pixel sums exactly the
  // C's terms in the C's order. A source hits one output twice (once wrapped) only when 2r >= width;
  // then the C's loop order (dx outer) is kept, otherwise rows run innermost for locality.
  const int nthreads = thread_count(threads);
  int bands = 1;
  if (nthreads > 1) bands = std::max(1, std::min(4 * nthreads, height / (4 * (radius + 1))));
  const bool wrap_ok = !spec.corrected;
  std::int64_t wrapped = 0;
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthreads) reduction(+ : wrapped)
#endif
  for (int b = 0; b < bands; ++b) {
    const int row0 = int(std::int64_t(height) * b / bands), row1 = int(std::int64_t(height) * (b + 1) / bands);
    const std::int64_t j0 = std::int64_t(row0) * width, j1 = std::int64_t(row1) * width;
    const int src0 = std::max(0, row0 - 1 - radius), src1 = std::min(height - 1, row1 - 1 + radius);
    for (int y0 = src0; y0 <= src1; ++y0) {
      // Output rows Y = y0 + dy that can hold a pixel of this band (Y = row0 - 1 for a wrapped hit).
      const int dy_lo_band = row0 - 1 - y0, dy_hi_band = row1 - 1 - y0;
      for (int x0 = 0; x0 < width; ++x0) {
        const std::int64_t i = std::int64_t(y0) * width + x0;
        const int r = src_radius[std::size_t(i)];
        if (r <= 0) continue;  // skipped pixel, or a negative -psf_radius (nothing scattered, N7)
        const int dy_lo = std::max(-r, dy_lo_band), dy_hi = std::min(r, dy_hi_band);
        if (dy_lo > dy_hi) continue;
        const double v = in[i];
        const int rr = r * r;
        auto hit = [&](int dx, int dy) {
          if (dx < -radius || dx > radius || dy < -radius || dy > radius) return;
          const double kv = kernel[std::size_t(ksize) * (ksize / 2 + dy) + ksize / 2 + dx];
          if (kv == 0.0) return;
          if (dx * dx + dy * dy > rr) return;
          const int X = x0 + dx, Y = y0 + dy;
          if (X < 0 || Y < 0) return;
          if (wrap_ok ? (X > width || Y > height) : (X >= width || Y >= height)) return;
          const std::int64_t j = std::int64_t(Y) * width + X;
          if (j < j0 || j >= j1) return;  // another band's pixel (or the C's padding at j = P)
          if (X == width) ++wrapped;
          out[std::size_t(j)] = float(out[std::size_t(j)] + v * kv);
        };
        if (2 * r >= width) {
          for (int dx = -r; dx <= r; ++dx)
            for (int dy = dy_lo; dy <= dy_hi; ++dy) hit(dx, dy);
          continue;
        }
        // One hit per output pixel: a row at a time, the bounds worked out once per row.
        for (int dy = std::max(dy_lo, -radius); dy <= std::min(dy_hi, radius); ++dy) {
          const int Y = y0 + dy;
          if (Y < 0 || (wrap_ok ? Y > height : Y >= height)) continue;
          const int rem = rr - dy * dy;
          int half = int(std::sqrt(double(rem)));
          while ((half + 1) * (half + 1) <= rem) ++half;
          while (half * half > rem) --half;
          const std::int64_t base = std::int64_t(Y) * width + x0;
          const int lo = int(std::max<std::int64_t>({-half, -x0, -radius, j0 - base}));
          const int hi = int(std::min<std::int64_t>({half, (wrap_ok ? width : width - 1) - x0, radius, j1 - 1 - base}));
          if (lo > hi) continue;
          const double* krow = kernel.data() + std::size_t(ksize) * (ksize / 2 + dy) + ksize / 2;
          float* orow = out.data() + base;
          for (int dx = lo; dx <= hi; ++dx) {
            const double kv = krow[dx];
            if (kv != 0.0) orow[dx] = float(orow[dx] + v * kv);
          }
          if (x0 + hi == width && krow[hi] != 0.0) ++wrapped;
        }
      }
    }
  }
  rep.edge_wrapped = wrapped;

  // The lost photons, spread over every pixel (L914-L919).
  rep.lost_photons = total_lost;
  const double each = total_lost / double(pixels);
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) num_threads(nthreads)
#endif
  for (std::int64_t i = 0; i < pixels; ++i) out[std::size_t(i)] = float(out[std::size_t(i)] + each);
  return rep;
}

}  // namespace nanobragg::noisify
