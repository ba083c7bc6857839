"""The nonBragg command line, option for option (nonBragg.c L299-L787, NONBRAGG.md section 4).

Same matching rules as nanoBragg's (substring containment, exact-length handlers, every handler
that matches fires, later options win), built from the helpers of :mod:`options`. Where the C
silently misreads (a missing or non-numeric value, an unknown option) an :class:`OptionError`
names the option; so do values with no physical meaning (a negative sample size, density or
molecular weight).
"""
from __future__ import annotations

import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional

from . import _core
from .options import (RTD, OptionError, _both, _energy, _filename, _flag, _Handler, _is_number, _number, _pivot,
                      _positive, _printout_pixel, _roi, _set, _setreq, _vector, apply_smv_header, check_all_consumed,
                      deg, mm, unknown_option)


class NonBraggRequest:
    """Everything one nonBragg command line asks for."""

    __slots__ = ("options", "amorphous", "stol", "stol_kind", "img", "ignore", "gain", "stolout", "sourcefile",
                 "floatfile", "intfile", "pgmfile", "noisefile", "write_noise", "intfile_scale", "pgm_scale", "adc",
                 "seed", "printout", "printout_pixel", "progress", "threads", "corrected", "pngfile", "device",
                 "wavelength_options")

    def __init__(self) -> None:
        self.options = _core.Options()
        self.options.convention = _core.Convention.CUSTOM
        self.amorphous = _core.AmorphousOptions()
        self.stol: Optional[str] = None
        self.stol_kind = "stol"  # stol, 4stol or Q
        self.img: Optional[str] = None
        self.ignore: List[int] = []
        self.gain = 1.0
        self.stolout = "output.stol"
        self.sourcefile: Optional[str] = None
        self.floatfile = "floatimage.bin"
        self.intfile = "intimage.img"
        self.pgmfile = "image.pgm"
        self.noisefile = "noiseimage.img"
        self.write_noise = True
        self.intfile_scale = 0.0
        self.pgm_scale = 0.0
        self.adc = 40.0
        self.seed = -int(time.time())
        self.printout = False
        self.printout_pixel = (-1, -1)
        self.progress = True
        self.threads = 0
        self.corrected = False
        self.pngfile: Optional[str] = None
        self.device = "cpu"
        # The options given that set the beam's wavelengths: a background group without any
        # follows the Bragg run's spectrum (compose, datasets; docs/spectra.md).
        self.wavelength_options: List[str] = []


def _sample(axes: str):
    def action(req, v, tok):
        value = _number(v[0], tok)
        if value < 0:
            raise OptionError(f"option {tok}: a sample size cannot be negative, got {v[0]}")
        for a in axes:
            setattr(req.amorphous, "sample_" + a, value / 1000)
    return action


def _material(attr: str, factor: float, positive: bool):
    def action(req, v, tok):
        value = _number(v[0], tok)
        if value < 0 or (positive and value == 0):
            raise OptionError(f"option {tok}: must be {'positive' if positive else 'zero or positive'}, got {v[0]}")
        setattr(req.amorphous, attr, value * factor if factor != 1 else value)
    return action


def _table(kind: str):
    def action(req, v, tok):
        req.stol = v[0]
        req.stol_kind = kind
    return action


def _ignore(req, v, tok):
    # The C stores the value in an unsigned short.
    req.ignore.append(int(_number(v[0], tok)) % 65536)


def _source_distance(req, v, tok):
    req.amorphous.source_distance = _number(v[0], tok) / 1000.0


_P = _core.Pivot

# nonBragg.c's handler table, in its order.
HANDLERS: List[_Handler] = [
    _Handler(("-samplesize", "-sample_size"), 1, _sample("xyz")),
    _Handler(("-sample_thick", "-sample_x", "-thick"), 1, _sample("x")),
    _Handler(("-sample_width", "-sample_y", "-width"), 1, _sample("y")),
    _Handler(("-sample_heigh", "-sample_z", "-heigh"), 1, _sample("z")),
    _Handler(("-density", "-sample_den"), 1, _material("density", 1e6, False)),
    _Handler(("-molecules", "-sample_molecules"), 1, _material("molecules", 1, False)),
    _Handler(("-MW",), 1, _material("molecular_weight", 1, True), exact=True),
    _Handler(("-molecular",), 1, _material("molecular_weight", 1, True)),
    _Handler(("-Xbeam",), 1, _set("Xbeam", mm, _P.BEAM)),
    _Handler(("-Ybeam",), 1, _set("Ybeam", mm, _P.BEAM)),
    _Handler(("-Xclose",), 1, _set("Xclose", mm, _P.SAMPLE)),
    _Handler(("-Yclose",), 1, _set("Yclose", mm, _P.SAMPLE)),
    _Handler(("-ORGX",), 1, _set("ORGX", float, _P.SAMPLE)),
    _Handler(("-ORGY",), 1, _set("ORGY", float, _P.SAMPLE)),
    _Handler(("-pivot",), 1, _pivot),
    _Handler(("-fdet_vector",), 3, _vector("fdet")),
    _Handler(("-sdet_vector",), 3, _vector("sdet")),
    # Same as nonBragg.c: read and discarded, the normal is always unit(f x s) (B3).
    _Handler(("-odet_vector",), 3, lambda r, v, t: [_number(x, t) for x in v[:3]]),
    _Handler(("-beam_vector",), 3, _vector("beam")),
    _Handler(("-polar_vector",), 3, _vector("polar")),
    _Handler(("-spindle_axis",), 3, _vector("spindle")),
    _Handler(("-twotheta_axis",), 3, _vector("twotheta_axis")),
    # Read and never used: the origin is always recomputed (B3).
    _Handler(("-pix0_vector",), 3, lambda r, v, t: [_number(x, t) for x in v[:3]]),
    _Handler(("-distance",), 1, _positive(_set("distance", mm, _P.BEAM))),
    _Handler(("-close_distance",), 1, _positive(_set("close_distance", mm, _P.SAMPLE))),
    _Handler(("-source_distance",), 1, _positive(_source_distance)),
    _Handler(("-twotheta",), 1, _set("twotheta", deg, _P.SAMPLE)),  # also fired by -twotheta_axis (B5)
    _Handler(("-detector_rotx",), 1, _set("detector_rotx", deg)),
    _Handler(("-detector_roty",), 1, _set("detector_roty", deg)),
    _Handler(("-detector_rotz",), 1, _set("detector_rotz", deg)),
    _Handler(("-detsize",), 1, _positive(_both("detsize_f", "detsize_s", mm)), length=8),
    _Handler(("-detsize_x",), 1, _positive(_set("detsize_f", mm))),
    _Handler(("-detsize_y",), 1, _positive(_set("detsize_s", mm))),
    _Handler(("-detpixels",), 1, _positive(_both("fpixels", "spixels", int)), length=10),
    _Handler(("-detpixels_f", "-detpixels_x"), 1, _positive(_set("fpixels", int))),
    _Handler(("-detpixels_s", "-detpixels_y"), 1, _positive(_set("spixels", int))),
    # nonBragg.c tests argc > i+1 though -curved_det reads no value: as the very last argument it
    # is skipped (a flat detector), and so it is here, with a warning.
    _Handler(("-curved_det",), 0, _flag("curved_detector", True), guard=1),
    _Handler(("-pixel",), 1, _positive(_set("pixel_size", mm))),
    _Handler(("-point_pixel",), 0, _flag("point_pixel", True)),
    _Handler(("-Fmap",), 0, lambda r, v, t: setattr(r.amorphous, "Fmap", True)),
    _Handler(("-polar",), 1, lambda r, v, t: (setattr(r.options, "polarization", _number(v[0], t)),
                                            setattr(r.options, "nopolar", False)), length=6),
    _Handler(("-nopolar",), 0, _flag("nopolar", True)),
    _Handler(("-oversample",), 1, _set("oversample", int)),
    _Handler(("-roi",), 4, _roi),
    _Handler(("-lambda", "-wave"), 1, _positive(_set("lambda0", lambda x: x / 1.0e10))),
    _Handler(("-energy",), 1, _energy),
    _Handler(("-fluence",), 1, _set("fluence")),
    _Handler(("-flux",), 1, _set("flux")),
    _Handler(("-exposure",), 1, _set("exposure")),
    _Handler(("-beamsize",), 1, _set("beamsize", lambda x: x / 1000)),
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
    _Handler(("-gain",), 1, _positive(_setreq("gain"))),
    _Handler(("-phi",), 1, _set("phi0", deg), length=4),
    _Handler(("-osc",), 1, _set("osc", deg)),
    _Handler(("-phistep",), 1, _set("phistep", deg), length=8),
    _Handler(("-phisteps",), 1, _set("phisteps", int)),
    _Handler(("-img",), 1, _filename("img")),
    _Handler(("-ignore",), 1, _ignore),
    _Handler(("-stolout",), 1, _filename("stolout"), greater_len=7),
    _Handler(("-stol",), 1, _table("stol"), length=5),
    _Handler(("-4stol",), 1, _table("4stol"), length=6),
    _Handler(("-Q",), 1, _table("Q"), length=2),
    _Handler(("-sourcefile",), 1, _filename("sourcefile")),
    _Handler(("-floatfile", "-floatimage"), 1, _filename("floatfile")),
    _Handler(("-intfile", "-intimage"), 1, _filename("intfile")),
    _Handler(("-pgmfile", "-pgmimage"), 1, _filename("pgmfile")),
    _Handler(("-noisefile", "-noiseimage"), 1, _filename("noisefile", ("write_noise", True))),  # B15
    _Handler(("-nonoise",), 0, _flag("write_noise", False, False)),
    _Handler(("-nopgm",), 0, lambda r, v, t: None),  # parsed and ignored: the PGM is always written (B14)
    _Handler(("-noreject",), 0, lambda r, v, t: None),  # outlier rejection is never on
    _Handler(("-scale",), 1, _setreq("intfile_scale")),
    _Handler(("-pgmscale",), 1, _setreq("pgm_scale")),
    _Handler(("-coherent",), 0, lambda r, v, t: None),  # parsed, no effect
    _Handler(("-printout",), 0, _flag("printout", True, False)),  # also fired by -printout_pixel
    _Handler(("-noprogress",), 0, _flag("progress", False, False)),
    _Handler(("-progress",), 0, _flag("progress", True, False)),
    _Handler(("-printout_pixel",), 2, _printout_pixel),
    _Handler(("-seed",), 1, lambda r, v, t: setattr(r, "seed", -_number(v[0], t, int))),
]

def _device(req, v, tok):
    if v[0] not in ("cpu", "cuda", "auto"):
        raise OptionError(f"option -device: expected 'cpu', 'cuda' or 'auto', got '{v[0]}'")
    req.device = v[0]


# Options of nanobragg-ext itself. Exact names.
EXTRA_HANDLERS: List[_Handler] = [
    # The one switch for corrected physics: comment lines skipped, a strictly increasing table
    # required, a look-up that does not depend on the pixel order.
    _Handler(("-corrected",), 0, _flag("corrected", True, False), exact=True),
    _Handler(("-threads",), 1, _setreq("threads", int), exact=True),
    _Handler(("-pngfile",), 1, _filename("pngfile"), exact=True),
    _Handler(("-device",), 1, _device, exact=True),
]

KNOWN_SPELLINGS = sorted({n for h in HANDLERS + EXTRA_HANDLERS for n in h.names})
WAVELENGTH_HANDLERS = ("-lambda", "-energy", "-dispersion", "-dispsteps", "-sourcefile")  # first names


def parse_nonbragg_args(argv: List[str]) -> NonBraggRequest:
    """Parse a nonBragg command line (argv without the program name)."""
    req = NonBraggRequest()
    args = list(argv)
    # Pre-scan (L299-L358): the -img header first, so every option overrides it.
    for i, tok in enumerate(args[:-1]):
        if tok.startswith("-") and "-img" in tok:
            req.img = args[i + 1]
    if req.img:
        from .io import read_smv

        apply_smv_header(req.options, read_smv(req.img), flip_y=True)
    consumed = [False] * len(args)
    for i, tok in enumerate(args):
        if not tok.startswith("-") or (consumed[i] and _is_number(tok)):
            continue
        fired = False
        for h in HANDLERS + EXTRA_HANDLERS:
            if not h.matches(tok):
                continue
            count = h.nvalues
            if count == 0 and i + h.guard >= len(args):
                print(f"nanobragg-ext nonbragg: warning: option {tok} is ignored as the very last argument, as "
                      "nonBragg does (put it before another option)", file=sys.stderr)
                fired = True
                continue
            if i + count >= len(args) and count > 0:
                raise OptionError(f"option {tok} needs {count} value{'s' if count > 1 else ''}")
            h.action(req, args[i + 1:i + 1 + count], tok)
            if h.names[0] in WAVELENGTH_HANDLERS:
                req.wavelength_options.append(tok)
            for j in range(i + 1, i + 1 + count):
                consumed[j] = True
            fired = True
        if not fired and not consumed[i] and not _is_number(tok):
            raise unknown_option(tok, KNOWN_SPELLINGS, "nonbragg option")
    check_all_consumed(args, consumed)
    req.amorphous.corrected = req.corrected
    return req


__all__ = ["NonBraggRequest", "parse_nonbragg_args", "RTD"]
