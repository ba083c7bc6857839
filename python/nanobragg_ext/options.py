"""The original nanoBragg command line, option for option.

nanoBragg.c examines every token that starts with ``-`` against every handler in a fixed order,
matching by substring (``strstr``), sometimes with an exact length, and several handlers may fire
for one token (``-twotheta_axis`` also sets ``-twotheta``; ``-misset_seed`` also sets ``-misset``).
This module runs the option table of :mod:`option_table` in that way (BEHAVIOUR.md section 3)
and fills a :class:`Request`. Where the C silently misreads (a missing or non-numeric value, an
unknown option) or the value is outside its field's valid range (README, Bad input) we raise
:class:`OptionError` with one line naming the option and the reason.
"""
from __future__ import annotations

import math
import os
import time

TYPE_CHECKING = False  # typing and dataclasses are left out: the command line starts faster
if TYPE_CHECKING:
    from typing import List, Optional

from . import _core
from .option_table import ALL_OPTIONS, DEG, FIELD, KNOWN_SPELLINGS, MM, RTD, SHAPES, Field, Option

mm = MM.to_native
deg = DEG.to_native


class OptionError(ValueError):
    """A command-line option is unknown, lacks its value(s) or has a malformed value."""


class Request:
    """Everything one command line asks for: the native Options plus files and output settings."""

    __slots__ = ("options", "hkl", "mat", "dump", "img", "mask", "sourcefile", "stol", "stolout", "floatfile",
                 "intfile", "pgmfile", "noisefile", "write_pgm", "write_noise", "intfile_scale", "pgm_scale", "adc",
                 "seed", "printout", "printout_pixel", "progress", "coherent", "precision", "device", "threads",
                 "pngfile", "mask_image", "mtz_column", "nexusfile", "crystfel_file", "smv_header", "spectrum_file",
                 "spectrum_bins", "sase_bandwidth", "sase_spike_width", "sase_samples", "sase_seed", "two_colour")

    def __init__(self, options: Optional["_core.Options"] = None) -> None:
        self.options = _core.Options() if options is None else options
        self.hkl: Optional[str] = None
        self.mat: Optional[str] = None
        self.dump = FIELD["run.dump_file"].default
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
        self.adc = FIELD["run.adc"].default
        self.seed = 0
        self.printout = False
        self.printout_pixel = (-1, -1)
        self.progress = True
        self.coherent = False
        self.precision = FIELD["run.precision"].default
        self.device = "cpu"
        self.threads = 0
        self.pngfile: Optional[str] = None
        self.mask_image = None  # io.SMVImage of -mask
        self.mtz_column: Optional[str] = None  # amplitude column of an MTZ/mmCIF -hkl file
        self.nexusfile: Optional[str] = None  # -nexus: the image as NeXus/NXmx (formats/nxmx.py)
        self.crystfel_file: Optional[str] = None  # -crystfel: HDF5 image + .geom beside it
        self.smv_header = "nanobragg"  # -smv_header: the C's header, or "dials" (formats/smv_header.py)
        # Spectra (spectra.py): at most one of a file, a SASE bandwidth (> 0) or two colours.
        self.spectrum_file: Optional[str] = None
        self.spectrum_bins = 0  # 0: every line of the file is a wavelength
        self.sase_bandwidth = 0.0  # percent; 0: no SASE spectrum
        self.sase_spike_width = 0.0  # percent; 0: bandwidth / 10
        self.sase_samples = FIELD["beam.sase_samples"].default
        self.sase_seed = FIELD["beam.sase_seed"].default
        self.two_colour = None  # (eV, eV, weight of the second)

    def __repr__(self) -> str:
        return "Request(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


INT_LIMIT = 2**31 - 1  # the C reads counts and seeds with atoi (a C int)
INT_MIN = -2**31      # atoi's one value beyond -INT_LIMIT


def _number(text: str, option: str, kind="real"):
    """text as a finite float, or an int when kind is "int" (or int); OptionError naming the option if not."""
    try:
        value = float(text)
    except ValueError:
        raise OptionError(f"option {option}: '{text}' is not a number") from None
    if kind == "int" or kind is int:
        if not math.isfinite(value) or value != int(value):
            raise OptionError(f"option {option}: '{text}' is not an integer")
        if abs(value) > INT_LIMIT and value != INT_MIN:
            raise OptionError(f"option {option}: '{text}' is out of range (at most {INT_LIMIT} in size)")
        return int(value)
    if not math.isfinite(value):
        raise OptionError(f"option {option}: '{text}' is not a finite number")
    return value


def _refuse(option: str, reason: str, text) -> None:
    raise OptionError(f"option {option}: {reason}, got {text}")


def _store(req: Request, field: Field, value, component=None) -> None:
    """Set a field's native home (an Options attribute, or a Request attribute for "req.x")."""
    target, name = (req, field.native[4:]) if field.native[:4] == "req." else (req.options, field.native)
    if component is not None:
        name = name[component]
    setattr(target, name, value)


def _value(field: Field, text: str, tok: str, kind=None):
    """One token converted for field: checked against the field's range, then to native units."""
    kind = kind or ("int" if field.kind in ("int", "n_cells", "seed") else "real")
    x = _number(text, tok, kind)
    if field.cli_check or x > 0:  # values <= 0 the C takes as "not given" (or one cell)
        reason = field.range.reason(x)
        if reason:
            _refuse(tok, reason + (f" ({field.unit.name})" if field.unit.name else ""), text)
    if field.kind == "seed":
        return -x if x != INT_MIN else x  # the C's int negation of INT_MIN wraps to itself
    return x if kind == "int" else field.unit.to_native(x)


def _set_fields(opt: Option, req: Request, v: List[str], tok: str) -> None:
    """The common action: the option's values converted into each field it sets."""
    for target in opt.sets:
        path, _, comp = target.partition(":")
        field = FIELD[path]
        if field.kind == "text":
            _store(req, field, v[0])
        elif field.kind == "choice":
            if v[0] not in field.choices:
                raise OptionError(f"option {tok}: expected {_words(field.choices)}, got '{v[0]}'")
            _store(req, field, field.choices[v[0]])
        elif field.kind == "vec3":
            vec = tuple(_number(x, tok) for x in v[:3])
            if field.nonzero and not any(vec):
                _refuse(tok, "a zero-length vector has no direction", " ".join(v[:3]))
            if any(field.range.reason(x) for x in vec):
                _refuse(tok, "each value " + field.range.describe(), " ".join(v[:3]))
            _store(req, field, vec)
        else:
            _store(req, field, _value(field, v[0], tok, opt.kind), int(comp) if comp else None)
    if opt.pivot is not None:
        req.options.pivot = getattr(_core.Pivot, opt.pivot)
    if opt.convention is not None:
        req.options.convention = getattr(_core.Convention, opt.convention)


def _words(choices) -> str:
    names = [f"'{c}'" for c in choices]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _set_flag(opt: Option, req: Request, v, tok: str) -> None:
    """A flag: each boolean field on (or off for action "off"); a convention flag selects it."""
    on = opt.action != "off"
    for target in opt.sets:
        field = FIELD[target]
        if field.kind == "bool":
            _store(req, field, int(on) if field.name == "interpolate" else on)
    if opt.pivot is not None:
        req.options.pivot = getattr(_core.Pivot, opt.pivot)
    if opt.convention is not None:
        req.options.convention = getattr(_core.Convention, opt.convention)


# Cell edges past any crystal: a denormal edge (1e-320 A) gives the C a finite image but ours a
# NaN one (its reciprocal cell overflows), a huge one loses the lattice to rounding.
CELL_EDGE_A = (0.01, 1e6)


def check_cell(cell) -> str:
    """Why six cell numbers (a b c in A, angles in degrees; b, c = 0 mean a, angles 0 mean 90)
    describe no cell ('' when they do)."""
    a, b, c = cell[:3]
    if not a > 0:
        return f"a must be positive (A), got {a:g}"
    if b < 0 or c < 0:
        return f"b and c must not be negative (A), got {b:g} {c:g}"
    for name, x in (("a", a), ("b", b), ("c", c)):
        if x and not CELL_EDGE_A[0] <= x <= CELL_EDGE_A[1]:  # b, c of 0 mean a
            return (f"{name} must be between {CELL_EDGE_A[0]:g} and {CELL_EDGE_A[1]:g} A (past any crystal), "
                    f"got {x:g}")
    angles = [90.0 if x == 0 else x for x in cell[3:]]
    for name, x in zip(("alpha", "beta", "gamma"), angles):
        if not 0 < x < 180:
            return f"{name} must be between 0 and 180 degrees, got {x:g}"
    ca, cb, cg = (math.cos(x / RTD) for x in angles)
    if 1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg <= 1e-12:
        return "no cell has the angles " + " ".join(f"{x:g}" for x in angles) + " (its volume is zero or imaginary)"
    return ""


def _cell(opt, req, v, tok):
    if not v:
        raise OptionError(f"option {tok}: needs at least the cell length a (reading stops at a token starting with '-')")
    o = req.options
    cell = list(o.cell)
    for i, text in enumerate(v[:6]):
        x = _number(text, tok)
        cell[i] = x if i < 3 else deg(x)
    given = [cell[i] if i < 3 else cell[i] * RTD for i in range(6)]
    reason = check_cell([float(_number(t, tok)) for t in v] + given[len(v):])
    if reason:
        raise OptionError(f"option {tok}: {reason}")
    o.user_cell = True
    o.cell = tuple(cell)


def _cell_count(args: List[str], i: int) -> int:
    n = 0
    while n < 6 and i + 1 + n < len(args) and not args[i + 1 + n].startswith("-"):
        n += 1
    return n


def _misset_random(opt, req, v, tok):
    req.options.misset_mode = -1


def _misset_angles(opt, req, v, tok):
    o = req.options
    # The C's atof turns non-numbers into 0 here; only -misset_seed reaches that (Q13).
    vals = []
    for x in v[:3]:
        try:
            vals.append(_number(x, tok))
        except OptionError:
            if "-misset_seed" not in tok:
                raise
            vals.append(0.0)
    o.misset_mode = 1
    o.misset = tuple(deg(a) for a in vals)


def _choose_pivot(opt, req, v, tok):
    if "sample" in v[0]:
        req.options.pivot = _core.Pivot.SAMPLE
    if "beam" in v[0]:
        req.options.pivot = _core.Pivot.BEAM


def _pix0(opt, req, v, tok):
    for x in v[:3]:
        _number(x, tok)
    req.options.convention = _core.Convention.CUSTOM


def _inverse_um(x: float) -> float:
    """1/(x um) in 1/m; a length so small that x*1e-6 underflows to 0 gives inf, as in the C."""
    return 1.0 / (x * 1e-6) if x * 1e-6 else math.inf


def _detector_abs(opt, req, v, tok):
    if "inf" in v[0] or _number(v[0], tok) == 0.0:
        req.options.detector_thick = 0.0
        req.options.detector_mu = 0.0
        return
    x = _number(v[0], tok)
    if x < 0:
        _refuse(tok, "an attenuation length must be positive (um; inf or 0: none)", v[0])
    req.options.detector_mu = _inverse_um(x)


def _from_energy(opt, req, v, tok):
    e = _number(v[0], tok)
    if e <= 0:
        _refuse(tok, "energy must be positive (eV)", v[0])
    wavelength = FIELD["beam.wavelength_A"]
    reason = wavelength.range.reason(12398.42 / e)
    if reason:
        _refuse(tok, f"the wavelength 12398.42 / energy {reason} (A)", v[0])
    req.options.lambda0 = (12398.42 / e) / 1.0e10


def _set_roi(opt, req, v, tok):
    o = req.options
    o.roi_xmin, o.roi_xmax, o.roi_ymin, o.roi_ymax = (_number(x, tok, "int") for x in v[:4])


def _polar(opt, req, v, tok):
    _set_fields(opt, req, v, tok)
    req.options.nopolar = False


def _shape(name: str):
    def action(opt, req, v, tok):
        req.options.shape = SHAPES[name]
    return action


def _request(attr: str, value=None, also=None, kind=None):
    """An action setting a Request attribute: to value, or from the option's one value."""
    def action(opt, req, v, tok):
        setattr(req, attr, value if value is not None else (v[0] if kind is None else _number(v[0], tok, kind)))
        if also:
            setattr(req, also[0], also[1])
    return action


def _set_printout_pixel(opt, req, v, tok):
    req.printout_pixel = (_number(v[0], tok, "int"), _number(v[1], tok, "int"))


def _device(opt, req, v, tok):
    if v[0] not in ("cpu", "cuda", "auto"):
        raise OptionError(f"option -device: expected 'cpu', 'cuda' or 'auto', got '{v[0]}'")
    req.device = v[0]


def _threads(opt, req, v, tok):
    n = _number(v[0], tok, "int")
    if n < 0:
        _refuse(tok, "must be >= 0 (0: all cores)", v[0])
    req.threads = min(n, os.cpu_count() or 1)  # more threads than cores: the same image, slower (or no memory)


def _smv_header(opt, req, v, tok):
    if v[0] not in ("nanobragg", "dials"):
        raise OptionError(f"option -smv_header: expected 'nanobragg' or 'dials', got '{v[0]}'")
    req.smv_header = v[0]


def _ignored(opt, req, v, tok):
    _number(v[0], tok)


# The actions the table names (option_table.OPTIONS[...].action) beyond "values -> fields".
ACTIONS = {
    "cell": _cell, "misset_random": _misset_random, "misset_angles": _misset_angles, "pivot": _choose_pivot,
    "pix0": _pix0, "detector_abs": _detector_abs, "energy": _from_energy, "roi": _set_roi, "polar": _polar,
    "ignored": _ignored, "img": _request("img"), "stol": _request("stol"), "stolout": _request("stolout"),
    "floatfile": _request("floatfile"), "intfile": _request("intfile"),
    "pgmfile": _request("pgmfile", also=("write_pgm", True)),
    "noisefile": _request("noisefile", also=("write_noise", True)),
    "nonoise": _request("write_noise", False), "nopgm": _request("write_pgm", False),
    "scale": _request("intfile_scale", kind="real"),
    "pgmscale": lambda o, r, v, t: (_request("pgm_scale", kind="real")(o, r, v, t), setattr(r, "write_pgm", True)),
    "coherent": _request("coherent", True), "printout": _request("printout", True),
    "noprogress": _request("progress", False), "progress": _request("progress", True),
    "printout_pixel": _set_printout_pixel, "device": _device, "threads": _threads, "pngfile": _request("pngfile"),
    "nexusfile": _request("nexusfile"), "crystfel_file": _request("crystfel_file"), "smv_header": _smv_header,
    "shape:round": _shape("round"), "shape:square": _shape("square"), "shape:gauss": _shape("gauss"),
    "shape:tophat": _shape("tophat"),
}


def _action(opt: Option):
    if opt.action in ACTIONS:
        return ACTIONS[opt.action]
    return _set_flag if opt.values == 0 else _set_fields


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


# Handlers whose C guard is argc >= i+1: as the last argument they read argv[argc] (NULL) and crash.
READS_PAST_THE_END = ("-detector_abs", "-detector_thick", "-detector_thicksteps", "-thicksteps")


def _ignored_at_end(tok: str, count: int) -> None:
    """The C runs a handler only when all its values follow (argc > i+count): near the end of the
    command line it is skipped and the run goes on without it. Same image, and say so."""
    import sys

    print(f"nanobragg-ext: warning: option {tok} needs {count} value{'s' if count > 1 else ''} and is "
          "ignored at the end of the command line, as nanoBragg does", file=sys.stderr)


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
        for opt in ALL_OPTIONS:
            if not opt.matches(tok):
                continue
            if opt.action == "misset_random" and not (i + 1 < len(args) and "rand" in args[i + 1]):
                continue
            if opt.action == "misset_angles" and i + 1 < len(args) and "rand" in args[i + 1]:
                continue
            if (opt.values == 0 and i + opt.guard >= len(args)) or (opt.action == "cell" and i + 1 >= len(args)):
                fired = True  # same as nanoBragg.c: -curved_det and -cell are ignored as the very last argument
                continue
            count = _cell_count(args, i) if opt.action == "cell" else opt.values  # same as nanoBragg.c: -cell as the very last argument is ignored
            if i + count >= len(args) and count > 0:
                if opt.action == "misset_angles" and "-misset_seed" in tok:
                    continue  # -misset_seed with fewer than 3 following tokens: only the seed handler
                if opt.names[0] in READS_PAST_THE_END:
                    raise OptionError(f"option {tok} needs {count} value{'s' if count > 1 else ''}")
                _ignored_at_end(tok, count)
                for j in range(i + 1, len(args)):
                    consumed[j] = True  # the C skips the handler; the tokens left are no option's values
                fired = True
                continue
            _action(opt)(opt, req, args[i + 1:i + 1 + count], tok)
            if opt.action == "misset_angles" and "-misset_seed" in tok:
                count = 1  # only the seed itself belongs to -misset_seed
            for j in range(i + 1, i + 1 + count):
                consumed[j] = True
            fired = True
            if opt.stop:
                break
        if not fired and not consumed[i] and not _is_number(tok):
            raise unknown_option(tok, KNOWN_SPELLINGS)
    check_all_consumed(args, consumed)
    return req


def unknown_option(tok: str, spellings, what: str = "option") -> OptionError:
    """The error for a token no handler takes, with the closest known spelling suggested."""
    import difflib  # only on this error path: it slows every start-up otherwise

    close = difflib.get_close_matches(tok, spellings, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return OptionError(f"unknown {what} {tok}{hint}")


def check_all_consumed(args: List[str], consumed: List[bool], allowed=lambda tok: False) -> None:
    """Refuse a stray token: not an option, not the value of one (allowed: tokens that may stand alone)."""
    for i, tok in enumerate(args):
        if not consumed[i] and not tok.startswith("-") and not allowed(tok):
            raise OptionError(f"unexpected argument '{tok}' (not the value of any option)")


# The building blocks noisify's and nonBragg's hand-written tables import from here.
from .option_handlers import (_both, _filename, _flag, _Handler, _positive, _printout_pixel, _roi,  # noqa: E402,F401
                              _set, _setreq, _vector)
from .option_handlers import _energy, _pivot  # noqa: E402,F401
