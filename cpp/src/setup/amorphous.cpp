/// nonBragg.c's set-up (L828-L1376): its detector-size and beam-centre rules on top of the shared
/// placement (place_detector with the CUSTOM frame), the shared sampling and source generation,
/// the sample and the fluence.
#include <cfloat>
#include <cmath>
#include <cstdio>

#include "nanobragg/amorphous.hpp"

namespace nanobragg {

namespace {
constexpr double kAvogadro = 6.02214179e23;
constexpr double kReSqr = 7.94079248018965e-30;

std::string format(const char* fmt, double a, double b) {
  char line[256];
  std::snprintf(line, sizeof line, fmt, a, b);
  return line;
}
}  // namespace

AmorphousSetup prepare_amorphous(const Options& opt, const AmorphousOptions& a, StolTableData table,
                                 const SourceList& sources) {
  AmorphousSetup s;
  // Pixel counts: ceil without nanoBragg's -0.5 (B1); beam centre defaults without half pixels (B2).
  const double px = opt.pixel_size;
  double detsize_x = opt.fpixels ? px * opt.fpixels : opt.detsize_f;
  double detsize_y = opt.spixels ? px * opt.spixels : opt.detsize_s;
  const int fpixels = int(std::ceil(detsize_x / px));
  const int spixels = int(std::ceil(detsize_y / px));
  double Xclose = opt.Xclose, Yclose = opt.Yclose;
  if (!std::isnan(opt.ORGX)) Xclose = opt.ORGX * px;
  if (!std::isnan(opt.ORGY)) Yclose = opt.ORGY * px;
  if (std::isnan(Xclose)) Xclose = (detsize_x - px) / 2.0;
  if (std::isnan(Yclose)) Yclose = (detsize_y + px) / 2.0;
  const double Xbeam = std::isnan(opt.Xbeam) ? Xclose : opt.Xbeam;
  const double Ybeam = std::isnan(opt.Ybeam) ? Yclose : opt.Ybeam;
  s.detsize_x = detsize_x, s.detsize_y = detsize_y;
  s.roi_xmin = opt.roi_xmin < 0 ? 0 : opt.roi_xmin;
  s.roi_xmax = opt.roi_xmax < 0 ? fpixels : opt.roi_xmax;
  s.roi_ymin = opt.roi_ymin < 0 ? 0 : opt.roi_ymin;
  s.roi_ymax = opt.roi_ymax < 0 ? spixels : opt.roi_ymax;

  // The shared placement in the CUSTOM frame: it pivots on (Xbeam, Ybeam) in both modes, so the
  // near point goes in its place for the SAMPLE pivot. A zero odet makes it take unit(f x s)
  // as nonBragg always does (B3); close_distance without fabs (B4).
  Options place = opt;
  place.convention = Convention::Custom;
  place.fpixels = fpixels, place.spixels = spixels;
  place.ORGX = place.ORGY = kUnset;
  place.Xclose = place.Yclose = kUnset;
  place.Xbeam = opt.pivot == Pivot::Sample ? Xclose : Xbeam;
  place.Ybeam = opt.pivot == Pivot::Sample ? Yclose : Ybeam;
  place.odet[0] = place.odet[1] = place.odet[2] = 0.0;
  if (std::isnan(opt.close_distance)) {
    Vec3d beam = {opt.beam[0], opt.beam[1], opt.beam[2]};
    Vec3d fdet = {opt.fdet[0], opt.fdet[1], opt.fdet[2]};
    Vec3d sdet = {opt.sdet[0], opt.sdet[1], opt.sdet[2]};
    unitize(beam), unitize(fdet), unitize(sdet);
    Vec3d odet = cross(fdet, sdet);
    unitize(odet);
    double ratio = dot(beam, rotate_xyz(odet, opt.detector_rotx, opt.detector_roty, opt.detector_rotz));
    if (ratio == 0.0) ratio = DBL_MIN;
    place.close_distance = ratio * opt.distance;
  }
  std::vector<std::string> ignored;  // "auto-generating odet_vector": nonBragg always does
  s.det = place_detector(place, ignored);
  s.Xclose = s.det.Fclose, s.Yclose = s.det.Sclose, s.Xbeam = s.det.Fbeam, s.Ybeam = s.det.Sbeam;
  s.distance = s.det.distance, s.close_distance = s.det.close_distance;

  std::vector<std::string> sampling_warnings;
  Options sampled = opt;
  sampled.detector_thick = 0.0;  // nonBragg's sensor is one layer of zero thickness
  s.sampling = resolve_sampling(sampled, sampling_warnings);

  // Fluence, beam clipping and molecules, in this order (L858-L878).
  s.fluence = opt.fluence;
  if (opt.flux != 0.0 && opt.exposure > 0.0 && opt.beamsize >= 0) {
    s.fluence = opt.flux * opt.exposure / opt.beamsize / opt.beamsize;
  }
  s.sample_x = a.sample_x, s.sample_y = a.sample_y, s.sample_z = a.sample_z;
  if (opt.beamsize >= 0) {
    if (opt.beamsize < s.sample_y) {
      s.warnings.push_back(format("WARNING: clipping sample (%lg m high) with beam (%lg m)", s.sample_y, opt.beamsize));
      s.sample_y = opt.beamsize;
    }
    if (opt.beamsize < s.sample_z) {
      s.warnings.push_back(format("WARNING: clipping sample (%lg m wide) with beam (%lg m)", s.sample_z, opt.beamsize));
      s.sample_z = opt.beamsize;
    }
  }
  const double volume = s.sample_x * s.sample_y * s.sample_z;
  s.density = a.density;
  if (a.molecules != 0) s.density = a.molecules / volume / kAvogadro * a.molecular_weight;
  s.molecules = volume * s.density * kAvogadro / a.molecular_weight;
  s.molecular_weight = a.molecular_weight;

  // Sources: the shared generator (same grid and rotations); nonBragg keeps weights of 1 for
  // generated sources and uses the file's weights (B10).
  Prepared p;
  p.options = opt;
  p.sampling = s.sampling;
  p.det = s.det;
  SourceList file = sources;
  for (std::size_t i = 0; i < file.lambda.size(); ++i) {
    for (int k = 0; k < 3; ++k) {
      double& v = file.xyz[3 * i + std::size_t(k)];
      if (std::isnan(v)) v = -a.source_distance * (k == 0 ? s.det.beam.x : k == 1 ? s.det.beam.y : s.det.beam.z);
    }
  }
  build_sources(p, file);
  s.sampling.divsteps = p.sampling.divsteps;
  s.source_dir = p.source_dir;
  s.source_lambda = p.source_lambda;
  s.source_raw_xyz = p.source_raw_xyz;
  for (std::size_t i = 0; i < s.source_lambda.size(); ++i) {
    Vec3d incident = {-s.source_dir[3 * i], -s.source_dir[3 * i + 1], -s.source_dir[3 * i + 2]};
    unitize(incident);
    s.source_pol_dir.insert(s.source_pol_dir.end(), {incident.x, incident.y, incident.z});
  }
  s.source_weight.assign(s.source_lambda.size(), 1.0);
  for (std::size_t i = 0; i < file.lambda.size(); ++i) {
    const double w = i < file.weight.size() ? file.weight[i] : NAN;
    s.source_weight[i] = std::isnan(w) ? 1.0 : w;
  }
  if (file.lambda.empty() && a.source_distance != 10.0) {
    // Printed positions follow -source_distance (the directions do not depend on it).
    for (double& v : s.source_raw_xyz) v = v / 10.0 * a.source_distance;
  }

  s.oversample = opt.oversample <= 0 ? 1 : opt.oversample;
  s.steps = double(s.source_lambda.size()) * s.oversample * s.oversample;

  // polarization_factor re-normalizes the axis in place on every call; from the second call on
  // it has settled to a fixed point (checked: one more pass changes nothing).
  s.polar_axis = s.det.polar;
  if (!opt.nopolar) {
    for (int k = 0; k < 4; ++k) {
      Vec3d next = s.polar_axis;
      unitize(next);
      const bool same = next.x == s.polar_axis.x && next.y == s.polar_axis.y && next.z == s.polar_axis.z;
      s.polar_axis = next;
      if (same) break;
    }
  }
  s.kahn = opt.polarization;
  s.nopolar = opt.nopolar;
  s.curved = opt.curved_detector;
  s.point_pixel = opt.point_pixel;
  s.Fmap = a.Fmap;
  s.corrected = a.corrected;
  s.table = std::move(table);
  return s;
}

AmorphousParams<double> AmorphousSetup::params() const {
  AmorphousParams<double> p{};
  p.fpixels = det.fpixels, p.spixels = det.spixels;
  p.roi_xmin = roi_xmin, p.roi_xmax = roi_xmax, p.roi_ymin = roi_ymin, p.roi_ymax = roi_ymax;
  p.pixel_size = det.pixel_size;
  p.oversample = oversample;
  p.subpixel_size = det.pixel_size / oversample;
  p.fdet = det.fdet, p.sdet = det.sdet, p.odet = det.odet, p.pix0 = det.pix0, p.beam = det.beam;
  p.distance = distance, p.close_distance = close_distance;
  p.curved_detector = curved, p.point_pixel = point_pixel;
  p.nopolar = nopolar, p.kahn = kahn, p.polar_axis = polar_axis;
  p.n_sources = int(source_lambda.size());
  p.source_dir = source_dir.data();
  p.source_pol_dir = source_pol_dir.data();
  p.source_lambda = source_lambda.data();
  p.source_weight = source_weight.data();
  p.table = {table.stol.data(), table.F.data(), int(table.stol.size()), table.monotonic ? 1 : 0,
             table.bucket.data(), int(table.bucket.size()), table.bucket_origin, table.bucket_scale};
  p.corrected = corrected;
  p.Fmap = Fmap;
  p.r_e_sqr = kReSqr, p.fluence = fluence, p.molecules = molecules, p.steps = steps;
  return p;
}

}  // namespace nanobragg
