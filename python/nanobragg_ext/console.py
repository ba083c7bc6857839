"""The console summary nanoBragg prints before rendering, line for line in its order and wording
(nanoBragg.c L1275-L2510), from a prepared run. Set-up decisions (the divergence trim, the
wavelengths, automatic interpolation and oversampling) are printed from the record the native
set-up keeps of them (``Prepared.record``), never derived again here. Scripts that parse the C's
output (geometry, source and domain counts, cell, scales) read ours the same way."""
from __future__ import annotations

TYPE_CHECKING = False  # typing is left out: the command line starts faster
if TYPE_CHECKING:
    from typing import List

from .options import RTD

_CONVENTIONS = {0: "custom", 1: "adxv", 2: "mosflm", 3: "xds", 4: "dials", 5: "denzo"}
_SHAPES = {0: "parallelpiped", 1: "ellipsoidal", 2: "gaussian", 3: "tophat-spot"}


def _vectors(title: str, names, cols) -> List[str]:
    lines = [title, "     %-10s  %-10s  %-10s" % names]
    for axis, i in (("X", 0), ("Y", 1), ("Z", 2)):
        lines.append("%s: %11.8f %11.8f %11.8f" % (axis, cols[0][i], cols[1][i], cols[2][i]))
    return lines


def summary_lines(prepared, req, messages: List[str]) -> List[str]:
    """What the C prints from its banner to the noise parameters; messages are the file-reading
    lines of this run (dump file read or written)."""
    g, s, c, o = prepared.geometry, prepared.sampling, prepared.crystal, prepared.options
    rec = prepared.record
    # The C warns about the beam clipping the sample and a generated odet vector before its banner.
    early = [w for w in prepared.warnings if w.startswith(("WARNING: clipping", "WARNING: auto-generating"))]
    out = early + ["nanoBragg nanocrystal diffraction simulator - James Holton and Ken Frankel 5-17-17"]
    out += [w for w in prepared.warnings if w not in early]
    out.append(f"{_CONVENTIONS[int(g['convention'])]} convention selected.")
    out.append("pivoting detector around sample" if int(g["pivot"]) == 0 else "pivoting detector around direct beam spot")
    dotp = lambda u, v: u[0] * v[0] + u[1] * v[1] + u[2] * v[2]  # noqa: E731
    out.append("XDS incident beam: %g %g %g" % (dotp(g["beam"], g["fdet"]), dotp(g["beam"], g["sdet"]),
                                               dotp(g["beam"], g["odet"])))
    if rec["auto_interpolation"] >= 0:
        out.append("auto-selected tricubic interpolation of structure factors" if rec["auto_interpolation"]
                   else "auto-selected no interpolation")
    if req.mat is not None:
        out.append(f"reading {req.mat}")
    if c["random_misset"]:
        out.append("random orientation misset angles: %f %f %f deg" % tuple(c["misset_deg"]))
    out.append("Unit Cell: %g %g %g %g %g %g" % tuple(c["cell"]))
    out.append("Recp Cell: %g %g %g %g %g %g" % tuple(c["recip_cell"]))
    out.append("volume = %g A^3" % c["V_cell"])
    ang = [tuple(x * 1e10 for x in c[k]) for k in ("a", "b", "c")]
    out += _vectors("real-space cell vectors (Angstrom):", ("a", "b", "c"), ang)
    out += _vectors("reciprocal-space cell vectors (Angstrom^-1):", ("a_star", "b_star", "c_star"),
                    [c["a_star"], c["b_star"], c["c_star"]])
    size = c["xtal_size"]
    out.append("crystal is %g x %g x %g microns" % tuple(x * 1e6 for x in size))
    if rec["auto_oversample"]:
        out.append("auto-selected %d-fold oversampling" % s["oversample"])
    if s["oversample"] < s["recommended_oversample"]:
        out += ["WARNING: maximum dimension of sample is %g A" % (rec["xtal_max"] * 1e10),
                "         but reciprocal pixel size is %g A" % (rec["reciprocal_pixel_size"] * 1e10),
                "         intensity may vary significantly across a pixel!",
                "         recommend -oversample %d to work around this" % s["recommended_oversample"]]
    Na, Nb, Nc = c["N"]
    out.append("approximate MW = %g" % (size[0] * size[1] * size[2] * 1.2e6 * 6.02214179e23 / (Na * Nb * Nc)))
    if req.hkl is not None:
        out += [f"counting entries in {req.hkl}"]
        if o.default_F != 0.0:
            out += ["initializing to default_F = %g:" % o.default_F, "done initializing:"]
        out += [f"re-reading {req.hkl}"]
    out += messages
    out += ["thick%d = %g um" % (i, s["thickstep"] * i * 1e6) for i in range(s["thicksteps"])]
    out += ["phi%d = %g" % (i, (s["phi0"] + s["phistep"] * i) * RTD) for i in range(s["phisteps"])]
    lambdas = prepared.source_wavelengths
    out += ["divergence deviation: %g %g" % hv for hv in rec["divergence"]]
    out += ["lambda%d = %.15g" % kv for kv in enumerate(rec["dispersion_lambdas"])]
    out.append("  created a total of %d sources:" % len(lambdas))
    pos, wts = prepared.source_positions, prepared.source_weights
    for k in range(len(lambdas)):
        out.append("%g %g %g   %g %g" % (pos[k][0], pos[k][1], pos[k][2], wts[k], lambdas[k]))
    out.append("  created a total of %d mosaic domains" % s["mosaic_domains"])
    out.append("  %d initialized hkls (all others =%g)" % (prepared.hkls, o.default_F))
    out.append("  %s xtal: %.0fx%.0fx%.0f cells" % (_SHAPES[int(o.shape)], Na, Nb, Nc))
    if rec["spectrum_mean_lambda"] > 0:  # the wavelength the headers give (pipeline.header_wavelength_m)
        out.append("  wave=%g meters: the weighted mean of a spectrum of %d wavelengths (-lambda %g meters)"
                   % (rec["spectrum_mean_lambda"], s["dispsteps"], o.lambda0))
    else:
        out.append("  wave=%g meters +/- %g%% in %d steps" % (o.lambda0, s["dispersion"] * 100, s["dispsteps"]))
    out.append("  polarization effect disabled" if o.nopolar else "  Kahn polarization factor: %f" % o.polarization)
    if o.curved_detector:
        out.append("  curved detector: all pixels same distance from origin")
    if o.point_pixel:
        out.append("  pixel obliquity effect disabled")
    out.append("  incident fluence: %g photons/m^2" % prepared.fluence)
    out.append("  distance=%g detsize=%gx%g  pixel=%g meters (%dx%d pixels)" % (
        g["distance"], g["detsize_f"], g["detsize_s"], g["pixel_size"], g["fpixels"], g["spixels"]))
    out.append("  sensor is %g m thick in %d layers with mu= %g" % (s["thick"], s["thicksteps"], s["mu"]))
    out.append("  Xbeam=%g Ybeam=%g" % (g["Xbeam"], g["Ybeam"]))
    out.append("  Fbeam=%g Sbeam=%g" % (g["Fbeam"], g["Sbeam"]))
    out.append("  Xclose=%g Yclose=%g" % (g["Xclose"], g["Yclose"]))
    out.append("  Fclose=%g Sclose=%g" % (g["Fclose"], g["Sclose"]))
    out.append("  DIRECTION_OF_DETECTOR_X-AXIS= %g %g %g" % g["fdet"])
    out.append("  DIRECTION_OF_DETECTOR_Y-AXIS= %g %g %g" % g["sdet"])
    out.append("  DIRECTION_OF_DETECTOR_Z-AXIS= %g %g %g" % g["odet"])
    out.append("  INCIDENT_BEAM_DIRECTION= %g %g %g" % g["beam"])
    out.append("  spindle ROTATION_AXIS= %g %g %g" % g["spindle"])
    b, p = g["beam"], g["polar"]
    out.append("  POLARIZATION_PLANE_NORMAL= %g %g %g" % (b[1] * p[2] - b[2] * p[1], b[2] * p[0] - b[0] * p[2],
                                                         b[0] * p[1] - b[1] * p[0]))
    out.append("  dials origin= %g %g %g" % g["dials_origin"])
    out.append("  roi: %d < x < %d && %d < y < %d" % g["roi"])
    out.append("  hdivrange=%g hdivstep=%g  radians" % (s["hdivrange"], s["hdivstep"]))
    out.append("  vdivrange=%g vdivstep=%g  radians" % (s["vdivrange"], s["vdivstep"]))
    out.append("  %d divergence steps" % s["divsteps"])
    out.append("  %d sources" % len(lambdas))
    out.append("  %d mosaic domains over mosaic spread of %g degrees" % (s["mosaic_domains"], s["mosaic_spread"] * RTD))
    out.append("  %d phi steps from %g to %g degrees" % (s["phisteps"], s["phi0"] * RTD, (s["phi0"] + s["osc"]) * RTD))
    flags = "".join(f for f, on in ((" +thick", o.oversample_thick), (" +polar", o.oversample_polar),
                                   (" +omega", o.oversample_omega)) if on)
    out.append("  %dx%d pixel oversample steps%s" % (s["oversample"], s["oversample"], flags))
    if req.mask is not None:
        out.append(f"  skipping zero-flagged pixels in {req.mask}")
    if req.write_noise:
        out += ["", "  noise image paramters:", "  seed: %d" % req.seed, "  water droplet size: %g m" % o.water_size]
    return out


def printout_lines(prepared, trace: dict, fpixel: int, spixel: int) -> List[str]:
    """One -printout block (nanoBragg.c L3057-L3077) from _core.Simulator.trace_pixel()."""
    import math

    x, y, z = trace["pos"]
    twotheta = math.atan2(math.sqrt(y * y + z * z), x)
    test = math.sin(twotheta / 2.0) / (prepared.options.lambda0 * 1e10)
    h, k, l = trace["hkl"]
    cell = [v * 1e10 for v in trace["cell"]]
    return [
        "%4d %4d : stol = %g or %g" % (fpixel, spixel, trace["stol"], test),
        "at %g %g %g" % (x, y, z),
        "hkl= %f %f %f  hkl0= %d %d %d" % (h, k, l, *trace["hkl0"]),
        " F_cell=%g  F_latt=%g   I = %g" % (trace["F_cell"], trace["F_latt"], trace["I"]),
        "I/steps %15.10g" % (trace["I"] / prepared.sampling["steps"]),
        "polar   %15.10g" % trace["polar"],
        "omega   %15.10g" % trace["omega"],
        "capfrac %15.10g" % trace["capture"],
        "pixel   %15.10g" % trace["pixel"],
    ] + _vectors("real-space cell vectors (Angstrom):", ("a", "b", "c"),
                 [cell[0:3], cell[3:6], cell[6:9]])
