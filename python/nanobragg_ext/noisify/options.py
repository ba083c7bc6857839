"""noisify's command line, handler for handler (noisify.c L161-L320, NOISIFY.md section 4).

Every argument that contains ``floatimage.bin`` names the input, option values included (N1).
Other arguments starting with ``-`` are tried against every handler in the C's order by substring
(three with an exact length), so several may fire and longer spellings work. Where the C silently
misreads (a missing or non-numeric value, an unknown option) we raise :class:`OptionError`
naming the option, as the nanoBragg command line does.
"""
from __future__ import annotations

import struct
import time

TYPE_CHECKING = False  # typing is left out: the command line starts faster
if TYPE_CHECKING:
    from typing import List, Optional

from ..options import OptionError, _Handler, _is_number, _number, check_all_consumed, unknown_option

#: noisify.c's file names when none is given.
DEFAULT_INTFILE, DEFAULT_PGMFILE, DEFAULT_NOISEFILE = "intimage.img", "image.pgm", "noiseimage.img"
POSITIONAL_INPUT = "floatimage.bin"
INT32_MAX = 2147483647


def float32(x: float) -> float:
    """x rounded to IEEE single, as the C stores psf_fwhm."""
    return struct.unpack("f", struct.pack("f", x))[0]


class NoisifyRequest:
    """One noisify command line: noisify.c's variables (SI units where the C converts) plus ours."""

    __slots__ = ("floatfile", "floatfile_opens", "floatfile_from_value", "headerfile", "intfile", "pgmfile",
                 "noisefile", "write_pgm", "calculate_noise", "bits", "lambda_", "Xbeam", "Ybeam", "distance",
                 "detsize_x", "detsize_y", "xpixels", "ypixels", "pixel", "psftype", "psf_fwhm", "psf_radius",
                 "fluence", "photon_scale", "readout", "flicker", "calibration", "seed", "calib_seed", "badpix_seed",
                 "hotpix_seed", "adc", "gain", "phi0", "osc", "early_lines",
                 "corrected", "threads", "hot_pixels", "dead_pixels", "saturation", "rebin")

    def __init__(self) -> None:
        self.floatfile: Optional[str] = None        # the name last opened (None: usage text)
        self.floatfile_opens = False                 # whether that fopen() would succeed
        self.floatfile_from_value: Optional[str] = None  # an option value taken as the input (N1)
        self.headerfile: Optional[str] = None
        self.intfile, self.pgmfile, self.noisefile = DEFAULT_INTFILE, DEFAULT_PGMFILE, DEFAULT_NOISEFILE
        self.write_pgm = True
        self.calculate_noise = True
        self.bits = 16
        self.lambda_ = 1.0
        self.Xbeam = self.Ybeam = None               # m; None = the image centre
        self.distance = 100.0e-3
        self.detsize_x = self.detsize_y = 102.4e-3
        self.xpixels = self.ypixels = 0
        self.pixel = 0.1e-3
        self.psftype = "none"                        # none | gauss | fiber
        self.psf_fwhm = float32(46e-6)               # m, a float in the C
        self.psf_radius = 0
        self.fluence = 125932015286227086360700780544.0
        self.photon_scale = 1.0
        self.readout = self.flicker = 0.0
        self.calibration = 0.03
        self.seed = -int(time.time())                # stored as the C stores them: -n for "-seed n"
        self.calib_seed = 123456789
        self.badpix_seed, self.hotpix_seed = 1234, 5678
        self.adc, self.gain = 40.0, 1.0
        self.phi0, self.osc = 0.0, 1.0
        self.early_lines: List[str] = []             # stdout lines the C prints while parsing
        # nanobragg-ext only (README "noisify"): all off by default.
        self.corrected = False
        self.threads = 0
        self.hot_pixels = self.dead_pixels = 0.0
        self.saturation = 0.0
        self.rebin = 1

    def __repr__(self) -> str:
        return "NoisifyRequest(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


def _opens(path: str) -> bool:
    try:
        with open(path, "rb"):
            return True
    except OSError:
        return False


def _int(text: str, tok: str) -> int:
    """atoi() fields: integers that fit the C's int."""
    v = _number(text, tok, int)
    if abs(v) > INT32_MAX:
        raise OptionError(f"option {tok}: {text} is out of range")
    return v


def _positive(text: str, tok: str, conv=float):
    v = _int(text, tok) if conv is int else _number(text, tok)
    if v <= 0:
        raise OptionError(f"option {tok}: must be positive, got {text}")
    return v


def _not_negative(text: str, tok: str) -> float:
    v = _number(text, tok)
    if v < 0:
        raise OptionError(f"option {tok}: must not be negative, got {text}")
    return v


def _set(attr: str, parse):
    def action(req, v, tok):
        setattr(req, attr, parse(v[0], tok))
    return action


def _both(a: str, b: str, parse):
    def action(req, v, tok):
        value = parse(v[0], tok)
        setattr(req, a, value)
        setattr(req, b, value)
    return action


def _name(attr: str):
    def action(req, v, tok):
        setattr(req, attr, v[0])
    return action


def _floatfile(req, v, tok):
    req.floatfile = v[0]
    req.floatfile_opens = _opens(v[0])


def _psf(req, v, tok):
    req.psftype = "none"
    if "gauss" in v[0]:
        req.psftype = "gauss"
    if "fiber" in v[0]:
        req.psftype = "fiber"
    if req.psftype == "none":
        req.early_lines.append(f"WARNING: unknown psf type: {v[0]}")


def _psf_radius(req, v, tok):
    r = _number(v[0], tok)  # atof, then stored in an int: 2.7 is 2
    if abs(r) > INT32_MAX:
        raise OptionError(f"option {tok}: {v[0]} is out of range")
    req.psf_radius = int(r)


def _seed(attr: str):
    def action(req, v, tok):
        setattr(req, attr, -_int(v[0], tok))
    return action


def _flag(attr: str, value):
    def action(req, v, tok):
        setattr(req, attr, value)
    return action


mm = lambda text, tok: _positive(text, tok) / 1000.0  # noqa: E731
mm_any = lambda text, tok: _number(text, tok) / 1000.0  # noqa: E731 (beam centres may be negative)

# noisify.c's handlers in its order (L170-L318).
HANDLERS: List[_Handler] = [
    _Handler(("-lambda",), 1, _set("lambda_", _positive)),
    _Handler(("-Xbeam",), 1, _set("Xbeam", mm_any)),
    _Handler(("-Ybeam",), 1, _set("Ybeam", mm_any)),
    _Handler(("-distance",), 1, _set("distance", mm)),
    _Handler(("-detsize",), 1, _both("detsize_x", "detsize_y", mm), length=8),
    _Handler(("-detsize_x",), 1, _set("detsize_x", mm)),
    _Handler(("-detsize_y",), 1, _set("detsize_y", mm)),
    _Handler(("-detpixels",), 1, _both("xpixels", "ypixels", lambda t, k: _positive(t, k, int)), length=10),
    _Handler(("-detpixels_x",), 1, _set("xpixels", lambda t, k: _positive(t, k, int))),
    _Handler(("-detpixels_y",), 1, _set("ypixels", lambda t, k: _positive(t, k, int))),
    _Handler(("-pixel",), 1, _set("pixel", mm)),
    _Handler(("-psf",), 1, _psf, length=4),
    _Handler(("-psf_rad",), 1, _psf_radius),
    _Handler(("-psf_si", "-psf_fw", "-psf_wi"), 1,
             _set("psf_fwhm", lambda t, k: float32(_not_negative(t, k) / 1e6))),
    _Handler(("-fluence",), 1, _set("fluence", _not_negative)),
    _Handler(("-floatfile", "-floatimage", "-bin"), 1, _floatfile),
    _Handler(("-header",), 1, _name("headerfile")),
    _Handler(("-pgmfile", "-pgmimage"), 1, _name("pgmfile")),
    _Handler(("-intfile", "-intimage"), 1, _name("intfile")),
    _Handler(("-bits",), 1, _set("bits", _int)),
    _Handler(("-noisefile", "-noiseimage"), 1, _name("noisefile")),
    _Handler(("-nonoise",), 0, _flag("calculate_noise", False)),
    _Handler(("-nopgm",), 0, _flag("write_pgm", False)),
    _Handler(("-readout", "-readnoi"), 1, _set("readout", _not_negative)),
    _Handler(("-flicker",), 1, _set("flicker", _not_negative)),
    _Handler(("-calibration",), 1, _set("calibration", _not_negative)),
    _Handler(("-scale",), 1, _set("photon_scale", _not_negative)),
    _Handler(("-seed",), 1, _seed("seed")),
    _Handler(("-calib_seed",), 1, _seed("calib_seed")),
    _Handler(("-badpix_seed",), 1, _seed("badpix_seed")),
    _Handler(("-hotpix_seed",), 1, _seed("hotpix_seed")),
    _Handler(("-adc",), 1, _set("adc", _number)),
    _Handler(("-gain",), 1, _set("gain", _not_negative)),
    _Handler(("-phi",), 1, _set("phi0", _number)),
    _Handler(("-osc",), 1, _set("osc", _number)),
]


def _fraction(text: str, tok: str) -> float:
    v = _number(text, tok)
    if not 0.0 <= v <= 1.0:
        raise OptionError(f"option {tok}: a fraction of the pixels, 0 to 1, got {text}")
    return v


# Options of nanobragg-ext itself (exact names, none containing a handler's substring).
EXTRA_HANDLERS: List[_Handler] = [
    _Handler(("-corrected",), 0, _flag("corrected", True), exact=True),
    _Handler(("-threads",), 1, _set("threads", lambda t, k: _positive(t, k, int)), exact=True),
    _Handler(("-hot_pixels",), 1, _set("hot_pixels", _fraction), exact=True),
    _Handler(("-dead_pixels",), 1, _set("dead_pixels", _fraction), exact=True),
    _Handler(("-saturation",), 1, _set("saturation", _positive), exact=True),
    _Handler(("-rebin",), 1, _set("rebin", lambda t, k: _positive(t, k, int)), exact=True),
]

KNOWN_SPELLINGS = sorted({n for h in HANDLERS + EXTRA_HANDLERS for n in h.names})


def parse_args(argv: List[str]) -> NoisifyRequest:
    """Parse a noisify command line (argv without the program name)."""
    req = NoisifyRequest()
    args = list(argv)
    consumed = [False] * len(args)
    value_of: List[Optional[_Handler]] = [None] * len(args)
    for i, tok in enumerate(args):
        if POSITIONAL_INPUT in tok:  # before anything else, for every argument (L163-L168)
            req.floatfile = tok
            req.floatfile_opens = _opens(tok)
            owner = value_of[i]
            if owner is not None and "-bin" not in owner.names:
                req.floatfile_from_value = tok
            continue
        if not tok.startswith("-") or (consumed[i] and _is_number(tok)):
            continue
        fired = False
        for h in EXTRA_HANDLERS + HANDLERS:
            if not h.matches(tok):
                continue
            if i + h.nvalues >= len(args) and h.nvalues > 0:
                raise OptionError(f"option {tok} needs a value")
            h.action(req, args[i + 1:i + 1 + h.nvalues], tok)
            for j in range(i + 1, i + 1 + h.nvalues):
                consumed[j] = True
                value_of[j] = h
            fired = True
            if h in EXTRA_HANDLERS:
                break
        if not fired and not consumed[i] and not _is_number(tok):
            raise unknown_option(tok, KNOWN_SPELLINGS)
    check_all_consumed(args, consumed, allowed=lambda tok: POSITIONAL_INPUT in tok)
    return req
