"""The original nanoBragg command line, option for option.

nanoBragg.c examines every token that starts with ``-`` against every handler in a fixed order,
matching by substring (``strstr``), sometimes with an exact length, and several handlers may fire
for one token (``-twotheta_axis`` also sets ``-twotheta``; ``-misset_seed`` also sets ``-misset``).
This module reproduces that table exactly (BEHAVIOUR.md section 3) and fills a :class:`Request`.
Where the C silently misreads (a missing or non-numeric value, an unknown option) we raise
:class:`OptionError` with a message naming the option instead.
"""
from __future__ import annotations

import math
import time

TYPE_CHECKING = False  # typing and dataclasses are left out: the command line starts faster
if TYPE_CHECKING:
    from typing import Callable, List, Optional

from . import _core

# The C's constant: RTD = 180.0*M_1_PI, with M_1_PI correctly rounded.
RTD = 180.0 * 0.318309886183790671538

# Unit conversions written exactly as the C writes them (a division is not a multiplication
# by the reciprocal in floating point, and parity is bit-level).
mm = lambda x: x / 1000.0  # noqa: E731
deg = lambda x: x / RTD  # noqa: E731


class OptionError(ValueError):
    """A command-line option is unknown, lacks its value(s) or has a malformed value."""


class Request:
    """Everything one command line asks for: the native Options plus files and output settings."""

    __slots__ = ("options", "hkl", "mat", "dump", "img", "mask", "sourcefile", "stol", "stolout", "floatfile",
                 "intfile", "pgmfile", "noisefile", "write_pgm", "write_noise", "intfile_scale", "pgm_scale", "adc",
                 "seed", "printout", "printout_pixel", "progress", "coherent", "precision", "device", "threads",
                 "pngfile", "mask_image", "mtz_column")

    def __init__(self, options: Optional["_core.Options"] = None) -> None:
        self.options = _core.Options() if options is None else options
        self.hkl: Optional[str] = None
        self.mat: Optional[str] = None
        self.dump = "Fdump.bin"
        self.img: Optional[str] = None
        self.mask: Optional[str] = None
        self.sourcefile: Optional[str] = None
        self.stol: Optional[str] = None
        self.stolout = "output.stol"
        self.floatfile = "floatimage.bin"
        self.intfile = "intimage.img"
        self.pgmfile = "image.pgm"
        self.noisefile = "noiseimage.img"
        self.write_pgm = True
        self.write_noise = True
        self.intfile_scale = 0.0
        self.pgm_scale = 0.0
        self.adc = 40.0
        self.seed = 0
        self.printout = False
        self.printout_pixel = (-1, -1)
        self.progress = True
        self.coherent = False
        self.precision = "double"
        self.device = "cpu"
        self.threads = 0
        self.pngfile: Optional[str] = None
        self.mask_image = None  # io.SMVImage of -mask
        self.mtz_column: Optional[str] = None  # amplitude column of an MTZ/mmCIF -hkl file

    def __repr__(self) -> str:
        return "Request(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


def _number(text: str, option: str, kind: Callable = float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise OptionError(f"option {option}: '{text}' is not a number") from None
    if kind is int:
        if not math.isfinite(value) or value != int(value):
            raise OptionError(f"option {option}: '{text}' is not an integer")
        return int(value)
    if not math.isfinite(value):
        raise OptionError(f"option {option}: '{text}' is not a finite number")
    return value


class _Handler:
    """One entry of the C's option table."""

    __slots__ = ("names", "nvalues", "action", "length", "exact", "stop", "greater_len", "value_count")

    def __init__(self, names: tuple, nvalues: int, action: Callable, length: Optional[int] = None,
                 exact: bool = False, stop: bool = False, greater_len: Optional[int] = None,
                 value_count: Optional[Callable] = None) -> None:
        self.names = names              # substrings (or exact names when exact=True)
        self.nvalues = nvalues          # values the C requires after the token
        self.action = action            # action(req, values, token)
        self.length = length            # the C's extra strlen() test
        self.exact = exact
        self.stop = stop                # the C 'continue's after this handler
        self.greater_len = greater_len  # strlen(token) > n
        self.value_count = value_count  # how many following tokens are values (default nvalues)

    def matches(self, token: str) -> bool:
        if self.exact:
            hit = token in self.names
        else:
            hit = any(n in token for n in self.names)
        if hit and self.length is not None and len(token) != self.length:
            return False
        if hit and self.greater_len is not None and len(token) <= self.greater_len:
            return False
        return hit


def _set(attr: str, conv: Callable = float, pivot=None):
    """Handler setting options.attr from one value; conv is int, float or a unit conversion."""
    def action(req, v, tok):
        if conv is int:
            value = _number(v[0], tok, int)
        else:
            value = _number(v[0], tok)
            if conv is not float:
                value = conv(value)
        setattr(req.options, attr, value)
        if pivot is not None:
            req.options.pivot = pivot
    return action


def _positive(handler: Callable) -> Callable:
    """Wrap a one-value handler so a zero or negative value is an error naming the option."""
    def action(req, v, tok):
        if _number(v[0], tok) <= 0:
            raise OptionError(f"option {tok}: must be positive, got {v[0]}")
        handler(req, v, tok)
    return action


def _setreq(attr: str, conv: Callable = float):
    def action(req, v, tok):
        setattr(req, attr, _number(v[0], tok, conv))
    return action


def _vector(attr: str):
    def action(req, v, tok):
        req.options.convention = _core.Convention.CUSTOM
        setattr(req.options, attr, tuple(_number(x, tok) for x in v[:3]))
    return action


def _flag(attr: str, value, on_options: bool = True):
    def action(req, v, tok):
        setattr(req.options if on_options else req, attr, value)
    return action


def _cell(req, v, tok):
    o = req.options
    o.user_cell = True
    cell = list(o.cell)
    for i, text in enumerate(v[:6]):
        x = _number(text, tok)
        cell[i] = x if i < 3 else deg(x)
    o.cell = tuple(cell)


def _cell_count(args: List[str], i: int) -> int:
    n = 0
    while n < 6 and i + 1 + n < len(args) and not args[i + 1 + n].startswith("-"):
        n += 1
    return n


def _misset_random(req, v, tok):
    req.options.misset_mode = -1


def _misset_angles(req, v, tok):
    o = req.options
    # The C's atof turns non-numbers into 0 here; only -misset_seed reaches that (Q13).
    vals = []
    for x in v[:3]:
        try:
            vals.append(float(x))
        except ValueError:
            if "-misset_seed" in tok:
                vals.append(0.0)
            else:
                raise OptionError(f"option {tok}: '{x}' is not a number") from None
    o.misset_mode = 1
    o.misset = tuple(deg(a) for a in vals)


def _sizes(axes: str):
    def action(req, v, tok):
        value = _number(v[0], tok) / 1000
        for a in axes:
            setattr(req.options, "sample_" + a, value)
    return action


def _convention(conv, pivot):
    def action(req, v, tok):
        req.options.convention = conv
        req.options.pivot = pivot
    return action


def _pivot(req, v, tok):
    if "sample" in v[0]:
        req.options.pivot = _core.Pivot.SAMPLE
    if "beam" in v[0]:
        req.options.pivot = _core.Pivot.BEAM


def _detector_abs(req, v, tok):
    if "inf" in v[0] or _number(v[0], tok) == 0.0:
        req.options.detector_thick = 0.0
        req.options.detector_mu = 0.0
    else:
        req.options.detector_mu = 1.0 / (_number(v[0], tok) * 1e-6)


def _energy(req, v, tok):
    e = _number(v[0], tok)
    if e <= 0:
        raise OptionError(f"option {tok}: energy must be positive, got {v[0]}")
    req.options.lambda0 = (12398.42 / e) / 1.0e10


def _roi(req, v, tok):
    o = req.options
    o.roi_xmin, o.roi_xmax, o.roi_ymin, o.roi_ymax = (_number(x, tok, int) for x in v[:4])


def _both(attr_a: str, attr_b: str, conv: Callable = float):
    def action(req, v, tok):
        value = _number(v[0], tok, int if conv is int else float)
        if conv not in (int, float):
            value = conv(value)
        setattr(req.options, attr_a, value)
        setattr(req.options, attr_b, value)
    return action


def _filename(attr: str, also=None):
    def action(req, v, tok):
        setattr(req, attr, v[0])
        if also:
            setattr(req, also[0], also[1])
    return action


def _seed(attr: str, on_options: bool):
    def action(req, v, tok):
        setattr(req.options if on_options else req, attr, -_number(v[0], tok, int))
    return action


def _shape(value: int):
    return _flag("shape", value)


def _printout_pixel(req, v, tok):
    req.printout_pixel = (_number(v[0], tok, int), _number(v[1], tok, int))


_P = _core.Pivot
_C = _core.Convention

# The handler table in nanoBragg.c's order (L505-L1116).
HANDLERS: List[_Handler] = [
    _Handler(("-Na",), 1, _set("Na", int), stop=True),
    _Handler(("-Nb",), 1, _set("Nb", int), stop=True),
    _Handler(("-Nc",), 1, _set("Nc", int), stop=True),
    _Handler(("-N",), 1, lambda r, v, t: [setattr(r.options, a, _number(v[0], t, int)) for a in ("Na", "Nb", "Nc")],
             exact=True, stop=True),
    _Handler(("-cell",), 1, _cell, value_count=_cell_count),
    _Handler(("-misset",), 1, _misset_random, stop=True),  # only when the value contains "rand"
    _Handler(("-misset",), 3, _misset_angles),
    _Handler(("-samplesize", "-sample_size"), 1, _sizes("xyz")),
    _Handler(("-sample_thick", "-sample_x"), 1, _sizes("x")),
    _Handler(("-sample_width", "-sample_y", "-width"), 1, _sizes("y")),
    _Handler(("-sample_heigh", "-sample_z", "-heigh"), 1, _sizes("z")),
    _Handler(("-xtalsize", "-xtal_size"), 1, _sizes("xyz")),
    _Handler(("-xtal_thick", "-xtal_x"), 1, _sizes("x")),
    _Handler(("-xtal_width", "-xtal_y", "-width"), 1, _sizes("y")),
    _Handler(("-xtal_heigh", "-xtal_z", "-heigh"), 1, _sizes("z")),
    _Handler(("-density", "-sample_den"), 1, lambda r, v, t: _number(v[0], t)),  # parsed, no effect
    _Handler(("-MW",), 1, lambda r, v, t: _number(v[0], t), exact=True),        # parsed, no effect
    _Handler(("-molec",), 1, lambda r, v, t: _number(v[0], t)),
    _Handler(("-Xbeam",), 1, _set("Xbeam", mm, _P.BEAM)),
    _Handler(("-Ybeam",), 1, _set("Ybeam", mm, _P.BEAM)),
    _Handler(("-Xclose",), 1, _set("Xclose", mm, _P.SAMPLE)),
    _Handler(("-Yclose",), 1, _set("Yclose", mm, _P.SAMPLE)),
    _Handler(("-ORGX",), 1, _set("ORGX", float, _P.SAMPLE)),
    _Handler(("-ORGY",), 1, _set("ORGY", float, _P.SAMPLE)),
    _Handler(("-pivot",), 1, _pivot),
    _Handler(("-mosflm",), 0, _convention(_C.MOSFLM, _P.BEAM)),
    _Handler(("-xds",), 0, _convention(_C.XDS, _P.SAMPLE)),
    _Handler(("-adxv",), 0, _convention(_C.ADXV, _P.BEAM)),
    _Handler(("-denzo",), 0, _convention(_C.DENZO, _P.BEAM)),
    _Handler(("-dials",), 0, _convention(_C.DIALS, _P.BEAM)),
    _Handler(("-fdet_vector",), 3, _vector("fdet")),
    _Handler(("-sdet_vector",), 3, _vector("sdet")),
    _Handler(("-odet_vector",), 3, _vector("odet")),
    _Handler(("-beam_vector",), 3, _vector("beam")),
    _Handler(("-polar_vector",), 3, _vector("polar")),
    _Handler(("-spindle_axis",), 3, _vector("spindle")),
    _Handler(("-twotheta_axis",), 3, _vector("twotheta_axis")),
    # Same as nanoBragg.c: the vector is read, selects CUSTOM, and is never used (Q12).
    _Handler(("-pix0_vector",), 3, lambda r, v, t: [_number(x, t) for x in v[:3]] and
             setattr(r.options, "convention", _C.CUSTOM)),
    _Handler(("-distance",), 1, _positive(_set("distance", mm, _P.BEAM))),
    _Handler(("-close_distance",), 1, _positive(_set("close_distance", mm, _P.SAMPLE))),
    _Handler(("-detector_abs",), 1, _detector_abs),
    _Handler(("-detector_thick",), 1, _set("detector_thick", lambda x: x * 1e-6), length=15),
    _Handler(("-detector_thicksteps",), 1, _set("detector_thicksteps", int)),
    _Handler(("-thicksteps",), 1, _set("detector_thicksteps", int)),
    _Handler(("-twotheta",), 1, _set("twotheta", deg, _P.SAMPLE)),
    _Handler(("-detector_rotx",), 1, _set("detector_rotx", deg)),
    _Handler(("-detector_roty",), 1, _set("detector_roty", deg)),
    _Handler(("-detector_rotz",), 1, _set("detector_rotz", deg)),
    _Handler(("-detsize",), 1, _positive(_both("detsize_f", "detsize_s", mm)), length=8),
    _Handler(("-detsize_f",), 1, _positive(_set("detsize_f", mm))),
    _Handler(("-detsize_s",), 1, _positive(_set("detsize_s", mm))),
    _Handler(("-detpixels",), 1, _positive(_both("fpixels", "spixels", int)), length=10),
    _Handler(("-detpixels_f", "-detpixels_x"), 1, _positive(_set("fpixels", int))),
    _Handler(("-detpixels_s", "-detpixels_y"), 1, _positive(_set("spixels", int))),
    # The C needs a token after -curved_det though it reads none; we accept it last too.
    _Handler(("-curved_det",), 0, _flag("curved_detector", True)),
    _Handler(("-pixel",), 1, _positive(_set("pixel_size", mm))),
    _Handler(("-point_pixel",), 0, _flag("point_pixel", True)),
    _Handler(("-polar",), 1, lambda r, v, t: (setattr(r.options, "polarization", _number(v[0], t)),
                                            setattr(r.options, "nopolar", False)), length=6),
    _Handler(("-nopolar",), 0, _flag("nopolar", True)),
    _Handler(("-oversample_thick",), 0, _flag("oversample_thick", True), stop=True),
    _Handler(("-oversample_polar",), 0, _flag("oversample_polar", True), stop=True),
    _Handler(("-oversample_omega",), 0, _flag("oversample_omega", True), stop=True),
    _Handler(("-oversample",), 1, _set("oversample", int)),
    _Handler(("-roi",), 4, _roi),
    _Handler(("-lambda", "-wave"), 1, _positive(_set("lambda0", lambda x: x / 1.0e10))),
    _Handler(("-energy",), 1, _energy),
    _Handler(("-fluence",), 1, _set("fluence")),
    _Handler(("-flux",), 1, _set("flux")),
    _Handler(("-exposure",), 1, _set("exposure")),
    _Handler(("-beamsize",), 1, _set("beamsize", lambda x: x / 1000)),
    _Handler(("-mosaic",), 1, _set("mosaic_spread", deg), length=7),
    _Handler(("-mosaici", "-mosaic_spr"), 1, _set("mosaic_spread", deg)),
    _Handler(("-mosaic_dom",), 1, _set("mosaic_domains", int)),
    _Handler(("-dispersion",), 1, _set("dispersion", lambda x: x / 100.0)),
    _Handler(("-dispsteps",), 1, _set("dispsteps", int)),
    _Handler(("-divergence",), 1, _both("hdivrange", "vdivrange", mm)),
    _Handler(("-hdivrange",), 1, _set("hdivrange", mm)),
    _Handler(("-vdivrange",), 1, _set("vdivrange", mm)),
    _Handler(("-hdivstep",), 1, _set("hdivstep", mm), length=9),
    _Handler(("-hdivsteps",), 1, _set("hdivsteps", int)),
    _Handler(("-vdivstep",), 1, _set("vdivstep", mm), length=9),
    _Handler(("-vdivsteps",), 1, _set("vdivsteps", int)),
    _Handler(("-divsteps",), 1, _both("hdivsteps", "vdivsteps", int)),
    _Handler(("-round_div",), 0, _flag("round_div", True)),
    _Handler(("-square_div",), 0, _flag("round_div", False)),
    _Handler(("-adc",), 1, _setreq("adc")),
    _Handler(("-phi",), 1, _set("phi0", deg), length=4),
    _Handler(("-osc",), 1, _set("osc", deg)),
    _Handler(("-phistep",), 1, _set("phistep", deg), length=8),
    _Handler(("-phisteps",), 1, _set("phisteps", int)),
    _Handler(("-dmin",), 1, _set("dmin", lambda x: x * 1e-10)),
    _Handler(("-mat",), 1, _filename("mat")),
    _Handler(("-hkl",), 1, _filename("hkl")),
    _Handler(("-default_F",), 1, _set("default_F")),
    _Handler(("-dump",), 1, _filename("dump")),
    _Handler(("-img",), 1, _filename("img")),
    _Handler(("-stolout",), 1, _filename("stolout"), greater_len=7),
    _Handler(("-stol",), 1, _filename("stol"), length=5),
    _Handler(("-4stol",), 1, _filename("stol"), length=6),
    _Handler(("-Q",), 1, _filename("stol"), length=2),
    _Handler(("-sourcefile",), 1, _filename("sourcefile")),
    _Handler(("-floatfile", "-floatimage"), 1, _filename("floatfile")),
    _Handler(("-intfile", "-intimage"), 1, _filename("intfile")),
    _Handler(("-pgmfile", "-pgmimage"), 1, _filename("pgmfile", ("write_pgm", True))),
    _Handler(("-noisefile", "-noiseimage"), 1, _filename("noisefile", ("write_noise", True))),
    _Handler(("-nonoise",), 0, _flag("write_noise", False, False)),
    _Handler(("-nopgm",), 0, _flag("write_pgm", False, False)),
    _Handler(("-scale",), 1, _setreq("intfile_scale")),
    _Handler(("-pgmscale",), 1, lambda r, v, t: (setattr(r, "pgm_scale", _number(v[0], t)),
                                               setattr(r, "write_pgm", True))),
    _Handler(("-coherent",), 0, _flag("coherent", True, False)),
    _Handler(("-printout",), 0, _flag("printout", True, False)),
    _Handler(("-noprogress",), 0, _flag("progress", False, False)),
    _Handler(("-progress",), 0, _flag("progress", True, False)),
    _Handler(("-interpolate",), 0, _flag("interpolate", 1)),
    _Handler(("-nointerpolate",), 0, _flag("interpolate", 0)),
    _Handler(("-round_xtal",), 0, _shape(1)),
    _Handler(("-square_xtal",), 0, _shape(0)),
    _Handler(("-gauss_xtal",), 0, _shape(2)),
    _Handler(("-binary_spots", "-tophat_spots"), 0, _shape(3)),
    _Handler(("-fudge",), 1, _set("fudge")),
    _Handler(("-printout_pixel",), 2, _printout_pixel),
    _Handler(("-seed",), 1, _seed("seed", False)),
    _Handler(("-mosaic_seed",), 1, _seed("mosaic_seed", True)),
    _Handler(("-misset_seed",), 1, _seed("misset_seed", True)),
    _Handler(("-water",), 1, _set("water_size", lambda x: x / 1e6)),
]

# Options of nanobragg-ext itself (not in the C). Exact names.
EXTRA_HANDLERS: List[_Handler] = [
    _Handler(("-mask",), 1, _filename("mask"), exact=True),  # read by the C's pre-scan
    _Handler(("-precision",), 1, lambda r, v, t: _precision(r, v[0]), exact=True),
    _Handler(("-device",), 1, lambda r, v, t: _device(r, v[0]), exact=True),
    _Handler(("-threads",), 1, _setreq("threads", int), exact=True),
    _Handler(("-pngfile",), 1, _filename("pngfile"), exact=True),
    # Amplitude column when -hkl names an MTZ/mmCIF file (read with gemmi; structure_factors.py).
    _Handler(("-mtz_column",), 1, _filename("mtz_column"), exact=True),
    # The one switch for corrected physics (see README "Fidelity"): off = the C's quirks.
    _Handler(("-corrected",), 0, _flag("corrected", True), exact=True),
    # libm arithmetic in the C's order: float images bit-identical to nanoBragg.c.
    _Handler(("-exact_math",), 0, _flag("exact_math", True), exact=True),
]


def _device(req, value):
    if value not in ("cpu", "cuda", "auto"):
        raise OptionError(f"option -device: expected 'cpu', 'cuda' or 'auto', got '{value}'")
    req.device = value


def _precision(req, value):
    if value not in ("double", "single"):
        raise OptionError(f"option -precision: expected 'double' or 'single', got '{value}'")
    req.precision = value


def _is_number(token: str) -> bool:
    """Whether token is a plain decimal number, [-+]?(d+.?d*|.d+)([eE][-+]?d+)? (without the
    re module, which the command line would import for this alone)."""
    body = token[1:] if token[:1] in ("+", "-") else token
    mantissa, e, exponent = body.replace("E", "e").partition("e")
    if e and not _digits(exponent[1:] if exponent[:1] in ("+", "-") else exponent):
        return False
    whole, dot, fraction = mantissa.partition(".")
    if whole:
        return _digits(whole) and (not fraction or _digits(fraction))
    return bool(dot) and _digits(fraction)


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


KNOWN_SPELLINGS = sorted({n for h in HANDLERS + EXTRA_HANDLERS for n in h.names})


def apply_smv_header(options, image, flip_y: bool) -> None:
    """Take detector geometry from an SMV header as nanoBragg's -img/-mask do (L418-L502).

    flip_y: -mask measures BEAM_CENTER_Y from the other edge (Q20); -img does not.
    """
    options.fpixels, options.spixels = image.width, image.height
    v = image.value("PIXEL_SIZE")
    if not math.isnan(v):
        options.pixel_size = v / 1000.0
    options.detsize_f = options.pixel_size * image.width
    options.detsize_s = options.pixel_size * image.height
    for key, attr, conv in (("DISTANCE", "distance", mm), ("CLOSE_DISTANCE", "close_distance", mm),
                            ("WAVELENGTH", "lambda0", lambda x: x / 1e10), ("BEAM_CENTER_X", "Xbeam", mm),
                            ("ORGX", "ORGX", float), ("ORGY", "ORGY", float), ("PHI", "phi0", deg),
                            ("OSC_RANGE", "osc", deg)):
        v = image.value(key)
        if not math.isnan(v):
            setattr(options, attr, conv(v))
    v = image.value("BEAM_CENTER_Y")
    if not math.isnan(v):
        options.Ybeam = options.detsize_s - v / 1000.0 if flip_y else v / 1000.0


def _prescan_headers(req: Request, args: List[str]) -> None:
    from .io import read_smv  # noqa: PLC0415 (only needed with -img/-mask)

    for i, tok in enumerate(args[:-1]):
        if tok.startswith("-") and "-img" in tok:
            req.img = args[i + 1]
        if tok.startswith("-") and "-mask" in tok:
            req.mask = args[i + 1]
    # The mask header is applied first and the img header second, whatever their order (img wins).
    if req.mask:
        req.mask_image = read_smv(req.mask)
        apply_smv_header(req.options, req.mask_image, flip_y=True)
    if req.img:
        apply_smv_header(req.options, read_smv(req.img), flip_y=False)


def parse_args(argv: List[str]) -> Request:
    """Parse a nanoBragg command line (argv without the program name) into a Request."""
    req = Request()
    now = int(time.time())
    req.seed = -now
    req.options.misset_seed = -now  # the C's default: the clock, not -seed (Q15)
    args = list(argv)
    _prescan_headers(req, args)
    consumed = [False] * len(args)
    for i, tok in enumerate(args):
        if not tok.startswith("-") or (consumed[i] and _is_number(tok)):
            continue
        fired = False
        for h in HANDLERS + EXTRA_HANDLERS:
            if not h.matches(tok):
                continue
            if h is HANDLERS[5] and not (i + 1 < len(args) and "rand" in args[i + 1]):
                continue
            if h is HANDLERS[6] and i + 1 < len(args) and "rand" in args[i + 1]:
                continue
            count = h.value_count(args, i) if h.value_count else h.nvalues
            if i + count >= len(args) and count > 0:
                if h is HANDLERS[6] and "-misset_seed" in tok:
                    continue  # -misset_seed with fewer than 3 following tokens: only the seed handler
                raise OptionError(f"option {tok} needs {count} value{'s' if count > 1 else ''}")
            values = args[i + 1:i + 1 + count]
            h.action(req, values, tok)
            if h is HANDLERS[6] and "-misset_seed" in tok:
                count = 1  # only the seed itself belongs to -misset_seed
            for j in range(i + 1, i + 1 + count):
                consumed[j] = True
            fired = True
            if h.stop:
                break
        if not fired and not consumed[i] and not _is_number(tok):
            import difflib  # only on this error path: it slows every start-up otherwise

            close = difflib.get_close_matches(tok, KNOWN_SPELLINGS, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise OptionError(f"unknown option {tok}{hint}")
    for i, tok in enumerate(args):
        if not consumed[i] and not tok.startswith("-"):
            raise OptionError(f"unexpected argument '{tok}' (not the value of any option)")
    return req
