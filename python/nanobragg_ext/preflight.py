"""Checks a command-line run makes after set-up and before rendering, so that a run that cannot
finish well writes nothing: every output folder is writable, the geometry gives no negative
photons; and a note of how long a long run will take."""
from __future__ import annotations

import math
import os

from . import _core
from .options import OptionError

# Measured cost of one (pixel x sub-pixel x source x phi x mosaic x layer) evaluation on one
# thread (README, Performance): about 10 ns in double, 5.5 ns in single, 17 ns with tricubic F.
SECONDS_PER_EVALUATION = {"double": 10e-9, "single": 5.5e-9}
TRICUBIC_SECONDS_PER_EVALUATION = 17e-9
LONG_RUN_SECONDS = 60.0


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


def check(req) -> None:
    """Everything that can be checked before any input is read or any file written."""
    check_outputs(req)
    check_header_values(req)
    check_geometry(req.options)
    if req.smv_header == "dials":
        check_smv_header(req.options)


def check_smv_header(options) -> None:
    """-smv_header dials: refuse, before rendering, a detector the header cannot describe to dxtbx."""
    from .formats.smv_header import check_dials_geometry

    try:
        prepared = _core.Simulator(options).prepared
    except (ValueError, RuntimeError):
        return  # the run's own set-up reports it
    check_dials_geometry(prepared)


def check_header_values(req) -> None:
    """An -img/-mask header sets values no option checked (unless an option after it did):
    a zero wavelength or pixel size there gives NaN Miller indices in the C (a crash with -hkl)."""
    if req.img is None and req.mask is None:
        return
    o = req.options
    source = f"option {'-img' if req.img is not None else '-mask'}: the header of '{req.img or req.mask}'"
    if not (o.lambda0 > 0 and math.isfinite(o.lambda0)):
        raise OptionError(f"{source} gives the wavelength {o.lambda0 * 1e10:g} A (WAVELENGTH); it must be positive")
    if not (o.pixel_size > 0 and math.isfinite(o.pixel_size)):
        raise OptionError(f"{source} gives the pixel size {o.pixel_size * 1e3:g} mm (PIXEL_SIZE); it must be positive")


def check_geometry(options) -> None:
    """Refuse a detector whose plane lies behind the sample: the C renders it with negative
    solid angles, i.e. negative photons on every pixel (a point-pixel detector has none).

    Places the detector alone (no tables are read; microseconds), before -hkl writes its dump.
    """
    try:
        g = _core.Simulator(options).prepared.geometry
    except (ValueError, RuntimeError):
        return  # the run's own set-up reports it, with the input files read
    if g["close_distance"] < 0 and not options.point_pixel:
        raise OptionError(
            f"detector: its plane lies behind the sample (distance to it {g['close_distance'] * 1000:g} mm), "
            "which gives negative photons; check -twotheta, -detector_rot*, -distance and the vectors")


def evaluations(prepared) -> int:
    """Inner-loop evaluations of the run: rendered pixels x sub-pixels x sources x phi x mosaic x layers."""
    g, s = prepared.geometry, prepared.sampling
    xmin, xmax, ymin, ymax = g["roi"]
    f = min(xmax, g["fpixels"] - 1) - max(xmin, 0) + 1 if xmin >= 0 else g["fpixels"]
    n_s = min(ymax, g["spixels"] - 1) - max(ymin, 0) + 1 if ymin >= 0 else g["spixels"]
    return max(f, 0) * max(n_s, 0) * int(s["steps"]) * max(int(s["thicksteps"]), 1)


def long_run_note(prepared, req):
    """One line saying how long a run of over about a minute will take (None for a short one)."""
    n = evaluations(prepared)
    threads = req.threads or _core.openmp_max_threads()
    interpolating = prepared.crystal["interpolate"] and prepared.hkls
    per = TRICUBIC_SECONDS_PER_EVALUATION if interpolating else SECONDS_PER_EVALUATION[req.precision]
    seconds = n * per / max(threads, 1)
    if seconds < LONG_RUN_SECONDS:
        return None
    when = f"{seconds / 60:.0f} minutes" if seconds < 7200 else f"{seconds / 3600:.1f} hours"
    return (f"nanobragg-ext: this run makes {n:.3g} evaluations (pixels x sub-pixels x sources x phi steps x "
            f"mosaic domains x layers); about {when} on {threads} thread{'s' if threads > 1 else ''}. "
            "Ctrl-C stops it cleanly.")
