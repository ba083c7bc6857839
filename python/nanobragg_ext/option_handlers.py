"""Building blocks for hand-written option tables in nanoBragg.c's style: the parsers of
noisify and nonBragg (other programs, other options) build theirs from these. nanoBragg's own
command line is generated from :mod:`option_table` instead.

Each handler's action is ``action(request, values, token)``; a number that is missing or not a
number raises :class:`options.OptionError` naming the option.
"""
from __future__ import annotations

TYPE_CHECKING = False  # typing is left out: the command line starts faster
if TYPE_CHECKING:
    from typing import Callable, Optional

from . import _core
from .option_table import MM, RTD  # noqa: F401 (RTD: for the callers' unit conversions)
from .options import OptionError, _number

mm = MM.to_native


class _Handler:
    """One entry of the C's option table."""

    __slots__ = ("names", "nvalues", "action", "length", "exact", "stop", "greater_len", "value_count", "guard")

    def __init__(self, names: tuple, nvalues: int, action: Callable, length: Optional[int] = None,
                 exact: bool = False, stop: bool = False, greater_len: Optional[int] = None,
                 value_count: Optional[Callable] = None, guard: Optional[int] = None) -> None:
        self.names = names              # substrings (or exact names when exact=True)
        self.nvalues = nvalues          # values the C requires after the token
        self.action = action            # action(req, values, token)
        self.length = length            # the C's extra strlen() test
        self.exact = exact
        self.stop = stop                # the C 'continue's after this handler
        self.greater_len = greater_len  # strlen(token) > n
        self.value_count = value_count  # how many following tokens are values (default nvalues)
        self.guard = nvalues if guard is None else guard  # tokens the C's argc test needs after it

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
            value = _number(v[0], tok, "int")
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


def _pivot(req, v, tok):
    if "sample" in v[0]:
        req.options.pivot = _core.Pivot.SAMPLE
    if "beam" in v[0]:
        req.options.pivot = _core.Pivot.BEAM


def _energy(req, v, tok):
    e = _number(v[0], tok)
    if e <= 0:
        raise OptionError(f"option {tok}: energy must be positive, got {v[0]}")
    req.options.lambda0 = (12398.42 / e) / 1.0e10


def _roi(req, v, tok):
    o = req.options
    o.roi_xmin, o.roi_xmax, o.roi_ymin, o.roi_ymax = (_number(x, tok, "int") for x in v[:4])


def _both(attr_a: str, attr_b: str, conv: Callable = float):
    def action(req, v, tok):
        value = _number(v[0], tok, "int" if conv is int else "real")
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


def _printout_pixel(req, v, tok):
    req.printout_pixel = (_number(v[0], tok, "int"), _number(v[1], tok, "int"))
