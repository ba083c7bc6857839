"""``nanobragg-ext nonbragg``: a drop-in for nonBragg.c, the absolute-scale scattering of an
amorphous sample (water, air, ice ...) from its F(sin(theta)/lambda) table.

Same files and console summary as the C (NONBRAGG.md); quirks reproduced by default with a
one-line warning on stderr; ``-corrected`` for the physical result. Bad input gives a one-line
error and exit status 2 with nothing written; the C's own exits (usage, a missing or empty
table or source file) keep its status 9.
"""
from __future__ import annotations

import math
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List

BANNER = "nonBragg amorphous material diffraction simulator - James Holton and Ken Frankel 3-19-16"

USAGE_LINES = [
    "usage: nonBragg -stol water.stol",
    "options:",
    "\t-stol filename.stol\ttext file containing sin(theta)/lambda and F for one molecule",
    "\t-thickness\tthickness of the sample in mm",
    "\t-samplesize\tlinear dimension of the (cube shaped) sample in mm",
    "\t-density\tdensity of the sample in g/cm^3",
    "\t-MW\tmolecular weight of the sample material in g/mol",
    "\t-hdivrange\thorizontal angular spread of source points in mrad",
    "\t-vdivrange\tvertical angular spread of source points in mrad",
    "\t-hdivstep\tnumber of source points in the horizontal",
    "\t-vdivstep\tnumber of source points in the vertical",
    "\t-distance\tdistance from origin to detector center in mm",
    "\t-detsize\tdetector size in mm",
    "\t-pixel\tdetector pixel size in mm",
    "\t-oversample\tnumber of sub-pixels per pixel",
    "\t-lambda\tincident x-ray wavelength in Angstrom",
    "\t-dispersion\tspectral dispersion: delta-lambda/lambda in percent",
    "\t-dispsteps\tnumber of wavelengths in above range",
    "\t-fluence\tintegrated beam intensity in photons/m^2",
    "\t-flux\t beam intensity in photons/s",
    "\t-exposure\t exposure time in s",
    "\t-beamsize\t linear dimension of the (square) beam profile in mm",
    "\t-sourcefile filename.txt\ttext file containing source positions in mm",
    "\t-floatfile\tname of binary output file (4-byte floats)",
    "\t-intfile\tname of smv-formatted output file (arbitrary scale)",
    "\t-pgmfile\tname of pgm-formatted output file (arbitrary scale)",
    "\t-noisefile\tname of smv-formatted output file (with Poisson noise)",
    "\t-Xbeam\timage X coordinate of direct-beam spot (mm)",
    "\t-Ybeam\timage Y coordinate of direct-beam spot (mm)",
    "\t-printout\tprint pixel values out to the screen",
    "\t-noprogress\tturn off the progress meter",
]


class NonBraggExit(Exception):
    """A failure the C ends with exit status 9 (message, status)."""


def _g(x: float) -> str:
    return "%g" % x


def read_sources(path: str):
    """-sourcefile rows (X Y Z weight lambda; NaN where missing), read as the C reads them."""
    from . import _core
    from .io import InputError

    try:
        cols = _core.read_text_columns(path, 5)
    except InputError:
        raise NonBraggExit(f"-sourcefile {path}: cannot be read") from None
    if cols["rows"] == 0:
        raise NonBraggExit(f"-sourcefile {path}: no sources in the file")
    x, y, z, w, lam = cols["columns"]
    return [v for row in zip(x, y, z) for v in row], list(w), list(lam)


def prepare(req, warn, spectrum=None):
    """Read the table and sources and set the run up; warn(line) receives the quirk warnings.
    spectrum (a spectra.Spectrum; compose and datasets: the Bragg run's) replaces the wavelengths:
    every divergence direction gets its lines, weighted as the Bragg image weights them."""
    from . import _core, stol_tables

    table = stol_tables.load(req.stol, req.corrected, "-" + req.stol_kind)
    for w in table.warnings:
        warn(w)
    xyz, weight, lam = read_sources(req.sourcefile) if req.sourcefile else ([], [], [])
    args = (req.options, req.amorphous, table.stol, table.F, stol_tables.MULTIPLIERS[req.stol_kind])
    setup = _core.prepare_amorphous(*args, xyz, weight, lam)
    if spectrum is None:
        return setup
    from .spectra import amorphous_sources

    return _core.prepare_amorphous(*args, *amorphous_sources(setup.summary, spectrum))


def render(setup, image, threads: int = 0, add: bool = False, record_last: bool = False, backend: str = "cpu"):
    """(statistics, last-evaluation record or None) of setup's render into image (float32,
    (slow, fast)); backend "cpu", "cuda" (RuntimeError saying why without a usable GPU) or "auto".
    The CUDA render gives the CPU's image and keeps no per-pixel record (-printout, -img)."""
    if backend != "cpu":
        from .api import resolve_backend

        backend = resolve_backend(backend)
    if backend == "cpu":
        return setup.render(image, threads, add, record_last)
    if record_last:
        raise ValueError("-printout and -img need the CPU backend (-device cpu): the CUDA render keeps no "
                         "per-pixel record of its look-ups")
    from . import _cuda

    return _cuda.render_amorphous(setup, image, add), None


def summary_lines(req, setup) -> List[str]:
    """The set-up as nonBragg.c prints it (L862-L1406), from the prepared record."""
    s = setup.summary
    o = req.options
    lines = list(s["warnings"])
    lines.append("pivoting detector around sample" if s["pivot_sample"] else "pivoting detector around direct beam spot")
    lines.append(f"reading {req.stol}")
    if not req.sourcefile:
        hr, hs, hn = s["hdivrange"], s["hdivstep"], s["hdivsteps"]
        vr, vs, vn = s["vdivrange"], s["vdivstep"], s["vdivsteps"]
        for i in range(hn):
            for k in range(vn):
                hdiv, vdiv = hs * i - hr / 2.0, vs * k - vr / 2.0
                # Same test as the C (the 0/0 of an unset range is NaN, which keeps the point).
                test = _div(_div(hdiv * hdiv - hs * hs / 4.0 * (1 - hn % 2), hr), hr)
                test += _div(_div(vdiv * vdiv - vs * vs / 4.0 * (1 - vn % 2), vr), vr)
                if o.round_div and test * 4.0 > 1.1:
                    continue
                lines.append(f"divergence deviation: {_g(hdiv)} {_g(vdiv)}")
        for k in range(s["dispsteps"]):
            lam = o.lambda0 * (1.0 + s["dispstep"] * k - s["dispersion"] / 2.0)
            lines.append(f"lambda{k} = {lam:.15g}")
    lines.append(f"  created a total of {s['sources']} sources:")
    xyz = s["source_raw_xyz"]
    for i in range(s["sources"]):
        lines.append(f"{_g(xyz[3 * i])} {_g(xyz[3 * i + 1])} {_g(xyz[3 * i + 2])}   "
                     f"{_g(s['source_weight'][i])} {_g(s['source_lambda'][i])}")
    lines.append(f"  {s['table_points']} initialized F points (will cubic-spline interpolate between them)")
    lines.append(f"  wave={_g(o.lambda0)} meters +/- {_g(s['dispersion'] * 100)}% in {s['dispsteps']} steps")
    lines.append("  polarization effect disabled" if o.nopolar else f"  Kahn polarization factor: {o.polarization:f}")
    if o.curved_detector:
        lines.append("  curved detector: all pixels same distance from origin")
    if o.point_pixel:
        lines.append("  pixel obliquity effect disabled")
    if req.amorphous.Fmap:
        lines.append("  Fmap mode: plotting structure factor at every pixel")
    lines.append(f"  incident fluence: {_g(s['fluence'])} photons/m^2")
    sx, sy, sz = s["sample"]
    lines.append(f"  sample is {_g(sx)} m thick x {_g(sy)} m high x {_g(sz)} m wide, {_g(s['density'] / 1e6)} g/cm^3 "
                 f"and {_g(s['molecular_weight'])} g/mol ({_g(s['molecules'])} molecules)")
    lines.append(f"  distance={_g(s['distance'])} detsize={_g(s['detsize_x'])}x{_g(s['detsize_y'])}  "
                 f"pixel={_g(s['pixel_size'])} meters ({s['fpixels']}x{s['spixels']} pixels)")
    lines.append(f"  Xbeam={_g(s['Xbeam'])} Ybeam={_g(s['Ybeam'])}")
    lines.append("  detector origin: %s %s %s" % tuple(_g(v) for v in s["pix0"]))
    for title, key in (("DIRECTION_OF_DETECTOR_X-AXIS", "fdet"), ("DIRECTION_OF_DETECTOR_Y-AXIS", "sdet"),
                       ("INCIDENT_BEAM_DIRECTION", "beam"), ("POLARIZATION_PLANE_NORMAL", "polar")):
        lines.append(f"  {title}= %s %s %s" % tuple(_g(v) for v in s[key]))
    lines.append("  roi: %d < x < %d && %d < y < %d" % s["roi"])
    lines.append(f"  hdivrange={_g(s['hdivrange'])} hdivstep={_g(s['hdivstep'])}  radians")
    lines.append(f"  vdivrange={_g(s['vdivrange'])} vdivstep={_g(s['vdivstep'])}  radians")
    lines.append(f"  {s['divsteps']} divergence steps")
    lines.append(f"  {s['sources']} sources")
    lines.append(f"  {s['oversample']} pixel oversample steps")
    if req.write_noise:
        lines.append("")
        lines.append("  noise image paramters:")
        lines.append(f"  seed: {req.seed}")
    return lines


def _div(a: float, b: float) -> float:
    """a/b with IEEE results for a zero divisor (the C's divergence test divides by unset ranges)."""
    if b != 0.0:
        return a / b
    if a == 0.0 or math.isnan(a):
        return math.nan
    return math.copysign(math.inf, a) * math.copysign(1.0, b)


def progress_lines(setup) -> List[str]:
    """The C's progress meter (L1597-L1612) for the rendered pixels, in order."""
    xmin, xmax, ymin, ymax = setup.summary["roi"]
    total = (xmax - xmin + 1) * (ymax - ymin + 1)
    f, s = setup.summary["fpixels"], setup.summary["spixels"]
    rendered = max(0, min(xmax, f - 1) - max(xmin, 0) + 1) * max(0, min(ymax, s - 1) - max(ymin, 0) + 1)
    if total // 100 <= 0:
        return []
    step20, step100 = total // 20, total // 100
    marks = sorted(set(range(0, rendered, step20)) | set(range(0, rendered, step100)))
    out = []
    for k in marks:
        if k % step20 == 0 or ((10 * k < total or 10 * k > 9 * total) and k % step100 == 0):
            out.append(f"{k * 100 // total}% done")
    return out


def printout_lines(setup, image, last, req) -> List[str]:
    """-printout: the last evaluation of one pixel (-printout_pixel f s) or of every pixel (image:
    flat, as new_image() makes it). The C's
    F and I on the second line are uninitialised variables; the values its x86-64 builds print
    (0 and 1) are printed."""
    s = setup.summary
    f_sel, s_sel = req.printout_pixel
    xmin, xmax, ymin, ymax = s["roi"]
    fp, sp, n = s["fpixels"], s["spixels"], s["oversample"]
    sub = s["pixel_size"] / n
    out = []
    for spix in range(sp):
        for fpix in range(fp):
            if fpix < xmin or fpix > xmax or spix < ymin or spix > ymax:
                continue
            if not ((fpix == f_sel and spix == s_sel) or f_sel < 0):
                continue
            stol, polar, omega, _ = last.at(spix * fp + fpix)
            Fdet = sub * (fpix * n + n - 1) + sub / 2.0
            Sdet = sub * (spix * n + n - 1) + sub / 2.0
            pos = [Fdet * s["fdet"][k] + Sdet * s["sdet"][k] + s["pix0"][k] for k in range(3)]
            if req.options.curved_detector:  # the C's curved pixel position (its rotate_axis)
                dist = s["distance"]
                v = _rotate_axis([dist * b for b in s["beam"]], s["sdet"], pos[1] / dist)
                pos = _rotate_axis(v, s["fdet"], pos[2] / dist)
            twotheta = math.atan2(math.sqrt(pos[1] * pos[1] + pos[2] * pos[2]), pos[0])
            test = math.sin(twotheta / 2.0) / (req.options.lambda0 * 1e10)
            value = float(image[spix * fp + fpix])
            out.append("%4d %4d : stol = %s or %s" % (fpix, spix, _g(stol), _g(test)))
            out.append(" F=%s    I = %s" % (_g(0.0), _g(1.0)))
            out.append("I/steps %15.10g" % (1.0 / s["steps"]))
            out.append("polar   %15.10g" % polar)
            out.append("omega   %15.10g" % omega)
            out.append("pixel   %15.10g" % value)
    return out


def _rotate_axis(v, axis, phi):
    """nonBragg.c rotate_axis() (Rodrigues), for the -printout pixel position."""
    sinphi, cosphi = math.sin(phi), math.cos(phi)
    d = (axis[0] * v[0] + axis[1] * v[1] + axis[2] * v[2]) * (1 - cosphi)
    return [axis[0] * d + v[0] * cosphi + (-axis[2] * v[1] + axis[1] * v[2]) * sinphi,
            axis[1] * d + v[1] * cosphi + (+axis[2] * v[0] - axis[0] * v[2]) * sinphi,
            axis[2] * d + v[2] * cosphi + (-axis[1] * v[0] + axis[0] * v[1]) * sinphi]


def smv_header(req, setup) -> bytes:
    """nonBragg's 512-byte SMV header (L1740-L1752): its own key set, %g numbers."""
    from .io import smv_header_block
    from .options import RTD

    s = setup.summary
    o = req.options
    px = s["pixel_size"]
    return smv_header_block([
        f"SIZE1={s['fpixels']};", f"SIZE2={s['spixels']};", f"PIXEL_SIZE={_g(px * 1000.0)};",
        f"DISTANCE={_g(s['distance'] * 1000.0)};", f"WAVELENGTH={_g(o.lambda0 * 1e10)};",
        f"BEAM_CENTER_X={_g(s['Xbeam'] * 1000.0)};", f"BEAM_CENTER_Y={_g((s['detsize_y'] - s['Ybeam']) * 1000)};",
        f"ORGX={_g(s['Xclose'] / px)};", f"ORGY={_g(s['Yclose'] / px)};",
        f"CLOSE_DISTANCE={_g(s['close_distance'] * 1000.0)};",
        f"PHI={_g(s['phi0'] * RTD)};", f"OSC_START={_g(s['phi0'] * RTD)};", f"OSC_RANGE={_g(s['osc'] * RTD)};",
        f"TWOTHETA={_g(o.twotheta * RTD)};"])


def new_image(shape):
    """A zeroed float32 image of shape (slow, fast) as a flat array.array('f'): the native calls take
    it as they take a NumPy array, and a run that needs nothing else of NumPy does not import it
    (about 0.2 s of CPU)."""
    from array import array

    return array("f", bytes(4 * shape[0] * shape[1]))


def float_file_bytes(image):
    """The little-endian 4-byte floats of the -floatfile (on a little-endian host a view of the
    image itself: no 4-byte-per-pixel copy to write)."""
    if sys.byteorder == "little":
        return memoryview(image).cast("B")
    from array import array

    swapped = array("f", image)
    swapped.byteswap()
    return swapped.tobytes()


def run(argv: List[str], out=None, err=None) -> int:
    from . import io
    from .nonbragg_options import parse_nonbragg_args
    from .stol_tables import TableMissing

    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    req = parse_nonbragg_args(argv)
    o = req.options
    if o.flux != 0.0 and o.exposure > 0.0 and o.beamsize == 0.0:
        raise ValueError("option -beamsize: 0 with -flux gives an infinite fluence (NONBRAGG.md section 14)")
    if req.img:
        print(f"reading {req.img}", file=out)  # the C's pre-scan prints it before the banner
    print(BANNER, file=out)
    if req.stol is None:
        print("\n".join(USAGE_LINES), file=out)
        return 9
    measured = None
    if req.img:
        import numpy as np

        measured = io.read_smv(req.img).data.astype(np.float32)
    try:
        setup = prepare(req, lambda w: print(f"nanobragg-ext nonbragg: warning: {w}", file=err))
    except (TableMissing, NonBraggExit) as e:
        print("pivoting detector around sample" if req.options.pivot == _pivot_sample() else
              "pivoting detector around direct beam spot", file=out)
        print(f"reading {req.stol}", file=out)
        print(f"nanobragg-ext nonbragg: error: {e}", file=err)
        return 9
    shape = setup.shape
    if measured is not None and measured.shape != tuple(shape):
        raise io.InputError(f"-img {req.img}: {measured.shape[1]}x{measured.shape[0]} pixels, but the detector is "
                            f"{shape[1]}x{shape[0]}")
    print("\n".join(summary_lines(req, setup)), file=out)

    image = new_image(shape)
    record = req.printout or measured is not None
    stats, last = render(setup, image, req.threads, False, record, req.device)
    if req.printout:
        print("\n".join(printout_lines(setup, image, last, req)), file=out)
    elif req.progress:
        for line in progress_lines(setup):
            print(line, file=out)
    print("", file=out)
    omega = stats["omega_sum"]
    print(f"solid angle subtended by detector = {_g(omega)} steradian ( {_g(100 * omega / 4 / math.pi)}% sphere)",
          file=out)
    files = []
    count = -1
    if measured is not None:
        from .stol_tables import MULTIPLIERS

        ex = setup.extract_table(last, measured, req.ignore, req.adc, req.gain, MULTIPLIERS[req.stol_kind])
        for line in ex["messages"]:
            print(line, file=out)
        print(f"wrote {req.stolout} as {ex['lines']} lines of text", file=out)
        files.append((req.stolout, ex["text"].encode("ascii")))
        count = ex["last_bin_count"]  # the C's pixel counter after the extraction (B13)
    st = setup.image_stats(image, count)
    s = setup.summary
    print(f"writing {req.floatfile} as {len(image)} 4-byte floats", file=out)
    n, sub = s["oversample"], s["pixel_size"] / s["oversample"]
    at_f = at_s = 0.0
    if st["max_index"] >= 0:
        fmax, smax = st["max_index"] % s["fpixels"], st["max_index"] // s["fpixels"]
        at_f = sub * (fmax * n + n - 1) + sub / 2.0
        at_s = sub * (smax * n + n - 1) + sub / 2.0
    print(f"max_I = {_g(st['max_I'])}  at {_g(at_f)} {_g(at_s)}", file=out)
    print(f"mean= {_g(st['mean'])} rms= {_g(st['rms'])} rmsd= {_g(st['rmsd'])}", file=out)
    int_scale = req.intfile_scale if req.intfile_scale > 0 else (55000.0 / st["max_I"] if st["max_I"] > 0 else 1.0)
    print(f"intfile_scale = {_g(int_scale)}", file=out)
    header = smv_header(req, setup)
    files.insert(0, (req.floatfile, float_file_bytes(image)))
    files.append((req.intfile, setup.int_image(image, int_scale, req.adc, header)))
    print(f"writing {req.intfile} as 2-byte integers", file=out)
    pgm_scale = req.pgm_scale
    if pgm_scale <= 0.0:
        pgm_scale = int_scale
        if st["rmsd"] > 0.0:
            pgm_scale = 250.0 / (5.0 * st["rmsd"])
    print(f"pgm_scale = {_g(pgm_scale)}", file=out)
    head = b"P5\n%d %d\n# pixels scaled by %s\n255\n" % (s["fpixels"], s["spixels"], _g(pgm_scale).encode())
    files.append((req.pgmfile, setup.pgm_bytes(image, pgm_scale, head)))
    print(f"writing {req.pgmfile} as 1-byte integers", file=out)
    if req.write_noise:
        noise, photons, overloads = setup.noise_image(image, req.adc, req.seed)
        print(f"{photons:.0f} photons on noise image ({overloads} overloads)", file=out)
        print(f"writing {req.noisefile} as 2-byte integers", file=out)
        files.append((req.noisefile, header + noise))
    check_writable([path for path, _ in files] + ([req.pngfile] if req.pngfile else []))
    for path, data in files:
        io.write_atomic(path, data)
    if req.pngfile:
        import numpy as np

        from .preview import write_png

        write_png(req.pngfile, np.frombuffer(image, dtype=np.float32).reshape(tuple(shape)))
    return 0


def check_writable(paths) -> None:
    """Refuse before writing anything when an output cannot be written (no partial set of files)."""
    import os

    for path in paths:
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            raise ValueError(f"output file '{path}' is a directory")
        if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
            raise ValueError(f"output file '{path}': cannot write in '{folder}'")


def _pivot_sample():
    from . import _core

    return _core.Pivot.SAMPLE


def main(argv: List[str]) -> int:
    """The subcommand's entry: errors as one line on stderr, exit status 2 (9 for the C's own)."""
    from .io import InputError
    from .options import OptionError

    if argv[:1] in (["-h"], ["--help"]):
        print("\n".join([BANNER] + USAGE_LINES + ["nanobragg-ext adds: -stol NAME (a shipped table: water, air, ice, "
                                                  "nanoice, helium), -corrected, -threads N, -device cpu|cuda|auto, "
                                                  "-pngfile FILE (README \"nonbragg\")"]))
        return 0
    try:
        return run(argv)
    except (OptionError, InputError, ValueError, RuntimeError, OSError) as e:  # RuntimeError: -device cuda, no GPU
        print(f"nanobragg-ext nonbragg: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nanobragg-ext nonbragg: interrupted; no output written", file=sys.stderr)
        return 130
