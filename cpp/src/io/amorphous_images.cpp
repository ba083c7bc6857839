/// nonBragg's statistics, PGM and -img table extraction, with the C's arithmetic.
#include "nanobragg/io/amorphous_images.hpp"

#include <cmath>
#include <cstdio>

namespace nanobragg {

namespace {
bool in_roi(Roi r, int f, int s) { return !(f < r.xmin || f > r.xmax || s < r.ymin || s > r.ymax); }
}  // namespace

AmorphousImageStats amorphous_image_stats(const float* image, int fpixels, int spixels, Roi roi,
                                          std::int64_t count) {
  AmorphousImageStats st;
  double sum = 0, sumsqr = 0;
  std::int64_t n = 0;
  const RoiRange span = clip_roi(roi, fpixels, spixels);
  for (int s = span.s0; s <= span.s1; ++s) {
    for (int f = span.f0; f <= span.f1; ++f) {
      const double v = image[std::int64_t(s) * fpixels + f];
      if (v > st.max_I) st.max_I = v, st.max_index = std::int64_t(s) * fpixels + f;
      sum += v;
      sumsqr += v * v;
      ++n;
    }
  }
  st.n = n;
  std::int64_t N = count >= 0 ? count : n;
  if (N <= 0) N = 1;
  st.sum = sum;
  st.mean = sum / N;
  if (N <= 1) N = 2;
  st.rms = std::sqrt(sumsqr / (N - 1));
  // Same as nonBragg.c: the value one pixel further on (the last reads the zero padding).
  const std::int64_t pixels = std::int64_t(fpixels) * spixels;
  double dev = 0;
  std::int64_t m = 0;
  for (int s = span.s0; s <= span.s1; ++s) {
    for (int f = span.f0; f <= span.f1; ++f) {
      const std::int64_t j = std::int64_t(s) * fpixels + f + 1;
      const double t = (j < pixels ? double(image[j]) : 0.0) - st.mean;
      dev += t * t;
      ++m;
    }
  }
  if (m <= 1) m = 2;
  st.rmsd = std::sqrt(dev / (m - 1));
  return st;
}

std::vector<std::uint8_t> amorphous_pgm_bytes(const float* image, int fpixels, int spixels, Roi roi, double scale) {
  const std::size_t n = std::size_t(fpixels) * spixels;
  std::vector<std::uint8_t> out(2 * n, 0);
  const RoiRange span = clip_roi(roi, fpixels, spixels);
  for (int s = span.s0; s <= span.s1; ++s) {
    for (int f = span.f0; f <= span.f1; ++f) {
      const std::size_t i = std::size_t(s) * fpixels + f;
      double t = image[i] * scale;
      if (t > 255.0) t = 255.0;
      out[i] = std::uint8_t(std::uint32_t(to_int32_x86(t)) & 0xffu);
    }
  }
  return out;
}

ExtractedTable extract_stol_table(const AmorphousSetup& setup, const LastEvaluation& last, const float* measured,
                                  const std::vector<std::uint16_t>& ignore, double adc, double gain,
                                  double stol_mult) {
  const AmorphousParams<double> p = setup.params();
  const int S = p.table.n;
  std::vector<std::vector<float>> bins(static_cast<std::size_t>(S));
  const Roi roi{p.roi_xmin, p.roi_xmax, p.roi_ymin, p.roi_ymax};
  for (int s = 0; s < p.spixels; ++s) {
    for (int f = 0; f < p.fpixels; ++f) {
      if (!in_roi(roi, f, s)) continue;  // the C files them under bin 0 out of bounds (NONBRAGG.md 14)
      const std::size_t j = std::size_t(s) * p.fpixels + f;
      bool invalid = false;
      for (std::uint16_t v : ignore) invalid |= measured[j] == float(v);
      float deviate = float((measured[j] - adc) / gain);
      const float sign = deviate < 0.0f ? -1.0f : 1.0f;
      deviate = std::fabs(deviate);
      const float pixel_F = float(
          sign * std::sqrt(deviate / last.polar[j] / last.omega[j] / p.fluence / p.r_e_sqr / p.molecules * p.steps));
      int bin = 0;
      if (!invalid) {
        bin = last.nearest[j];
        if (last.stol[j] > (p.table.stol[bin] + p.table.stol[bin + 1]) / 2.0) ++bin;
      }
      bins[std::size_t(bin)].push_back(pixel_F);
    }
  }
  ExtractedTable t;
  char line[512];
  for (int bin = 2; bin < S - 2; ++bin) {
    const std::vector<float>& v = bins[std::size_t(bin)];
    const int n = int(v.size());
    float avg = 0.0f, rmsd = 0.0f;  // the C leaves them uninitialised when n == 0
    if (n > 0) {
      float sum = 0.0f, sumd = 0.0f;
      for (float x : v) sum += x;
      avg = sum / n;
      for (float x : v) {
        const float d = float(std::fabs(x - avg));
        sumd += d * d;
      }
      rmsd = float(std::sqrt(sumd / n));
    }
    const double stol = p.table.stol[bin] / stol_mult;
    if (n > 100) {
      std::snprintf(line, sizeof line, "%g %g %g   %g %g  %d\n", stol, double(avg), double(rmsd), 0.0, 0.0, n);
      t.text += line;
      ++t.lines;
    } else {
      std::snprintf(line, sizeof line, "WARNING: not enough pixels in bin= %d n=%d stol= %g median= %g avg_arej= %g",
                    bin, n, stol, 0.0, double(avg));
      t.messages.emplace_back(line);
    }
    t.last_bin_count = n;
  }
  return t;
}

}  // namespace nanobragg
