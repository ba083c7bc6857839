/// Counts, ranges and steps of phi, divergence, dispersion, sensor layers and mosaic domains after
/// the C's defaulting rules (nanoBragg.c L1380-L1695, BEHAVIOUR.md 7.2).
#include <cmath>
#include <cstdio>

#include "nanobragg/setup.hpp"

namespace nanobragg {

namespace {
// The rule shared by horizontal/vertical divergence and dispersion. unset_range_value is the
// range used when only a count is given (1 rad for divergence, 100% for dispersion).
void resolve_axis(int& steps, double& range, double& step, double unset_range_value) {
  if (steps <= 0) {
    if (range < 0.0) {
      if (step <= 0.0) {
        steps = 1, range = 0.0, step = 0.0;
      } else {
        range = step, steps = 2;
      }
    } else {
      if (step <= 0.0) {
        step = range, steps = 2;
      } else {
        steps = int(std::ceil(range / step));
      }
    }
  } else {
    if (range < 0.0) {
      if (step <= 0.0) {
        range = unset_range_value, step = range / steps;
      } else {
        range = step, steps = 2;
      }
    } else if (step <= 0.0) {
      if (steps <= 1) steps = 2;
      step = range / (steps - 1);
    }
  }
}

void clear_if_degenerate(int& steps, double& range, double& step) {
  if (range <= 0.0 || step <= 0.0 || steps <= 0) steps = 1, range = 0.0, step = 0.0;
}
}  // namespace

Sampling resolve_sampling(const Options& opt, std::vector<std::string>& warnings) {
  Sampling s;
  // phi (L1380-L1429)
  int phisteps = opt.phisteps;
  double osc = opt.osc, phistep = opt.phistep;
  if (phisteps < 0) {
    if (osc < 0.0) {
      if (phistep <= 0.0) {
        phisteps = 1, osc = 0.0, phistep = 0.0;
      } else {
        osc = phistep, phisteps = 2;
      }
    } else {
      if (phistep <= 0.0) {
        phisteps = 2, phistep = osc / 2.0;
      } else {
        phisteps = int(std::ceil(osc / phistep));
      }
    }
  } else {
    if (phisteps == 0) phisteps = 1;
    if (osc < 0.0) {
      if (phistep <= 0.0) {
        osc = 1.0 / (180.0 * M_1_PI), phistep = osc / phisteps;
      } else {
        osc = phistep, phisteps = 2;
      }
    } else if (phistep < 0.0) {
      phistep = osc / phisteps;
    }
  }
  s.phisteps = phisteps, s.osc = osc, s.phistep = phistep, s.phi0 = opt.phi0;

  s.hdivsteps = opt.hdivsteps, s.hdivrange = opt.hdivrange, s.hdivstep = opt.hdivstep;
  s.vdivsteps = opt.vdivsteps, s.vdivrange = opt.vdivrange, s.vdivstep = opt.vdivstep;
  s.dispsteps = opt.dispsteps, s.dispersion = opt.dispersion, s.dispstep = opt.dispstep;
  resolve_axis(s.hdivsteps, s.hdivrange, s.hdivstep, 1.0);
  resolve_axis(s.vdivsteps, s.vdivrange, s.vdivstep, 1.0);
  resolve_axis(s.dispsteps, s.dispersion, s.dispstep, 1.0);

  // Sensor layers (L1598-L1637): two layers of T/2 without a count, T/(n-1) with one (Q5).
  int n = opt.detector_thicksteps;
  double thick = opt.detector_thick, tstep = opt.detector_thickstep;
  if (n <= 0) {
    if (thick < 0.0) {
      if (tstep <= 0.0) {
        n = 1, thick = 0.0, tstep = 0.0;
      } else {
        thick = tstep, n = 2;
      }
    } else {
      if (tstep <= 0.0) {
        n = 2, tstep = thick / n;
      } else {
        n = int(std::ceil(thick / tstep));
      }
    }
  } else {
    if (thick < 0.0) {
      if (tstep <= 0.0) {
        thick = 0.5e-6, tstep = thick / n;
      } else {
        thick = tstep, n = 2;
      }
    } else if (tstep <= 0.0) {
      if (n <= 1) n = 2;
      tstep = thick / (n - 1);
    }
  }
  double mu = opt.detector_mu;
  if (thick > 0.0 && mu < 0.0) {
    mu = 1.0 / thick;
    char line[128];
    std::snprintf(line, sizeof line, "WARNING: setting detector attenuation depth to %g m", mu);
    warnings.emplace_back(line);
  }

  // Mosaic domains (L1639-L1672).
  int domains = opt.mosaic_domains;
  double spread = opt.mosaic_spread;
  if (domains <= 0) {
    if (spread < 0.0) {
      domains = 1, spread = 0.0;
    } else if (spread == 0.0) {
      domains = 1;
    } else {
      warnings.emplace_back("WARNING: finite mosaicity with only one domain! upping to 10 mosaic domains");
      domains = 10;
    }
  } else {
    if (spread < 0.0) {
      warnings.emplace_back("WARNING: no mosaic spread specified.  setting mosaic_domains = 1");
      spread = 0.0, domains = 1;
    } else if (spread == 0.0) {
      warnings.emplace_back("WARNING: zero mosaic spread specified.  setting mosaic_domains = 1");
      domains = 1;
    }
  }
  s.mosaic_domains = domains, s.mosaic_spread = spread;

  clear_if_degenerate(s.hdivsteps, s.hdivrange, s.hdivstep);
  clear_if_degenerate(s.vdivsteps, s.vdivrange, s.vdivstep);
  clear_if_degenerate(s.dispsteps, s.dispersion, s.dispstep);
  clear_if_degenerate(n, thick, tstep);
  s.thicksteps = n, s.thick = thick, s.thickstep = tstep, s.mu = mu;
  return s;
}

}  // namespace nanobragg
