"""Checks a command-line run makes after set-up and before rendering, so that a run that cannot
finish well writes nothing: every output folder is writable, the geometry gives no negative
photons; and a note of how long a long run will take."""
from __future__ import annotations

import math
import os

from . import _core
from .option_table import FIELD
from .options import RTD, OptionError

# Measured cost of one (pixel x sub-pixel x source x phi x mosaic x layer) evaluation on one
# thread (README, Performance): about 10 ns in double, 5.5 ns in single, 17 ns with tricubic F.
SECONDS_PER_EVALUATION = {"double": 10e-9, "single": 5.5e-9}
TRICUBIC_SECONDS_PER_EVALUATION = 17e-9
LONG_RUN_SECONDS = 60.0
# Bytes prepare() keeps per source (position, direction, weight, wavelength, grid point), per
# mosaic domain (its rotation) and per phi step x domain (two orientation tables).
BYTES_PER_SOURCE = 8 * 8 + 2 * 8
BYTES_PER_DOMAIN = 9 * 8
BYTES_PER_ORIENTATION = 2 * 9 * 8
WAVELENGTH = FIELD["beam.wavelength_A"]


def output_files(req) -> list:
    """(option, path) of every file the run will write."""
    files = [("-floatfile", req.floatfile), ("-intfile", req.intfile)]
    if req.write_pgm:
        files.append(("-pgmfile", req.pgmfile))
    if req.write_noise:
        files.append(("-noisefile", req.noisefile))
    if req.pngfile:
        files.append(("-pngfile", req.pngfile))
    if req.nexusfile:
        files.append(("-nexus", req.nexusfile))
    if req.crystfel_file:
        from .formats.crystfel_h5 import geom_path

        files += [("-crystfel", req.crystfel_file), ("-crystfel", geom_path(req.crystfel_file))]
    return files


def check_outputs(req) -> None:
    """Refuse an output whose folder is missing or not writable, or that names a folder."""
    for option, path in output_files(req):
        folder = os.path.dirname(path) or "."
        if os.path.isdir(path):
            raise OptionError(f"option {option}: '{path}' is a folder, not a file name")
        if not os.path.isdir(folder):
            raise OptionError(f"option {option}: cannot write '{path}': folder '{folder}' does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OptionError(f"option {option}: cannot write '{path}': folder '{folder}' is not writable")


def check(req):
    """Everything that can be checked before any input is read or any file written; returns the
    run's plan (its set-up without tables, _core.plan) or None where the set-up itself fails (the
    run then reports it, with the input files read). With the inputs read, check_tables and
    long_run_note take the plan before the set-up is built."""
    check_outputs(req)
    check_header_values(req)
    plan = check_options(req.options)
    if plan is not None and req.mask_image is not None:
        from .pipeline import mask_pixels

        mask_pixels(req, plan)  # a mask of another size, before any input is read
    if plan is not None and req.smv_header == "dials":
        from .formats.smv_header import check_dials_geometry

        check_dials_geometry(plan)  # a detector the header cannot describe to dxtbx, before rendering
    return plan


def check_options(options):
    """The checks of the options together (the command line's and the configs'): the plan of the
    run (_core.plan: microseconds, no tables), or None where its set-up fails."""
    try:
        plan = _core.plan(options)
    except (ValueError, RuntimeError):
        return None  # the run's own set-up reports it, with the input files read
    check_geometry(plan)
    check_wavelengths(plan)
    check_phi_steps(plan)
    return plan


def check_phi_steps(plan) -> None:
    """Refuse a phi sampling without a step (-osc 0 with a -phistep): the C divides its image by
    zero steps and writes NaN pixels."""
    s = plan.sampling
    if s["phisteps"] <= 0:
        raise OptionError(f"options -osc and -phistep: an oscillation of {s['osc'] * RTD:g} deg with a phi step of "
                          f"{s['phistep'] * RTD:g} deg gives no phi step (the C writes NaN pixels); -osc must be "
                          "positive, or leave -phistep out")


def check_header_values(req) -> None:
    """An -img/-mask header sets values no option checked (unless an option after it did):
    a zero wavelength or pixel size there gives NaN Miller indices in the C (a crash with -hkl)."""
    if req.img is None and req.mask is None:
        return
    o = req.options
    source = f"option {'-img' if req.img is not None else '-mask'}: the header of '{req.img or req.mask}'"
    if not (o.lambda0 > 0 and math.isfinite(o.lambda0)):
        raise OptionError(f"{source} gives the wavelength {o.lambda0 * 1e10:g} A (WAVELENGTH); it must be positive")
    reason = WAVELENGTH.range.reason(o.lambda0 * 1e10)
    if reason:
        raise OptionError(f"{source} gives the wavelength {o.lambda0 * 1e10:g} A (WAVELENGTH); it {reason}")
    if not (o.pixel_size > 0 and math.isfinite(o.pixel_size)):
        raise OptionError(f"{source} gives the pixel size {o.pixel_size * 1e3:g} mm (PIXEL_SIZE); it must be positive")


def check_geometry(plan) -> None:
    """Refuse a detector whose plane lies behind the sample: the C renders it with negative
    solid angles, i.e. negative photons on every pixel (a point-pixel detector has none)."""
    g = plan.geometry
    if g["close_distance"] < 0 and not plan.options.point_pixel:
        raise OptionError(
            f"detector: its plane lies behind the sample (distance to it {g['close_distance'] * 1000:g} mm), "
            "which gives negative photons; check -twotheta, -detector_rot*, -distance and the vectors")


def check_wavelengths(plan) -> None:
    """The wavelengths across -dispersion stay in the wavelength's range (the table's): 1 +- D/2
    times the central one, D up to 200%, may leave it at either end."""
    s = plan.sampling
    if s["dispsteps"] <= 1:
        return
    lambda0 = plan.options.lambda0 * 1e10
    ends = (lambda0 * (1.0 - s["dispersion"] / 2.0),
            lambda0 * (1.0 + s["dispstep"] * (s["dispsteps"] - 1) - s["dispersion"] / 2.0))
    for end in ends:
        reason = WAVELENGTH.range.reason(end)
        if reason:
            raise OptionError(f"option -dispersion: the wavelengths across it reach {end:g} A "
                              f"({s['dispersion'] * 100:g}% of {lambda0:g} A); each {reason} (A)")


def planned_sources(plan, file_wavelengths, spectrum_lines: int = 0) -> int:
    """How many sources the run will have: the source file's rows (file_wavelengths, as read), or
    the divergence grid (about pi/4 of it when trimmed to an ellipse) times the wavelengths across
    the dispersion, or times the spectrum's lines (spectrum_lines > 0)."""
    if file_wavelengths:
        return len(file_wavelengths)
    s = plan.sampling
    grid = s["hdivsteps"] * s["vdivsteps"]
    if plan.options.round_div and s["hdivrange"] > 0 and s["vdivrange"] > 0:
        grid = max(1, round(grid * math.pi / 4))
    return grid * (spectrum_lines or s["dispsteps"])


def check_tables(plan, sources: int) -> None:
    """Refuse step counts whose set-up tables (sources, mosaic domains, phi x domain orientations)
    would not fit in memory, before building any of them."""
    from .pipeline import available_memory

    s = plan.sampling
    need = (sources * BYTES_PER_SOURCE + s["mosaic_domains"] * BYTES_PER_DOMAIN
            + s["phisteps"] * s["mosaic_domains"] * BYTES_PER_ORIENTATION)
    avail = available_memory()
    if avail is not None and need > avail:
        raise OptionError(
            f"options -hdivsteps/-vdivsteps/-dispsteps ({sources:.3g} sources), -mosaic_domains "
            f"({s['mosaic_domains']}) and -phisteps ({s['phisteps']}): the set-up needs about "
            f"{need / 2**30:.3g} GiB for their tables; this machine has {avail / 2**30:.1f} GiB")


def evaluations(plan, sources: int) -> int:
    """Inner-loop evaluations of the run: rendered pixels x sub-pixels x sources x phi x mosaic x layers."""
    g, s = plan.geometry, plan.sampling
    xmin, xmax, ymin, ymax = g["roi"]
    f = min(xmax, g["fpixels"] - 1) - max(xmin, 0) + 1 if xmin >= 0 else g["fpixels"]
    n_s = min(ymax, g["spixels"] - 1) - max(ymin, 0) + 1 if ymin >= 0 else g["spixels"]
    return (max(f, 0) * max(n_s, 0) * s["oversample"] ** 2 * sources * s["phisteps"] * s["mosaic_domains"]
            * max(s["thicksteps"], 1))


def long_run_note(plan, req, sources: int):
    """One line saying how long a run of over about a minute will take (None for a short one)."""
    n = evaluations(plan, sources)
    threads = req.threads or _core.openmp_max_threads()
    auto = plan.record["auto_interpolation"]
    interpolating = (auto if auto >= 0 else plan.options.interpolate) and req.hkl is not None
    per = TRICUBIC_SECONDS_PER_EVALUATION if interpolating else SECONDS_PER_EVALUATION[req.precision]
    seconds = n * per / max(threads, 1)
    if seconds < LONG_RUN_SECONDS:
        return None
    minutes = round(seconds / 60)
    when = f"{minutes} minute{'s' if minutes > 1 else ''}" if seconds < 7200 else f"{seconds / 3600:.3g} hours"
    return (f"nanobragg-ext: this run makes {n:.3g} evaluations (pixels x sub-pixels x sources x phi steps x "
            f"mosaic domains x layers); about {when} on {threads} thread{'s' if threads > 1 else ''}. "
            "Ctrl-C stops it cleanly.")
