"""File formats of nanoBragg: SMV images, raw float images, PGM, HKL text, the Fdump cache,
MOSFLM matrices and source files. Readers reject malformed input with :class:`InputError`
(naming the file and the problem); writers produce the C's bytes exactly and never leave a
partial file behind (temporary name, then rename).
"""
from __future__ import annotations

import math
import os

TYPE_CHECKING = False  # typing and dataclasses are left out: the command line starts faster
if TYPE_CHECKING:
    from typing import Dict, List, Optional, Tuple

from . import _core
from .option_table import FIELD

_WAVELENGTH = FIELD["beam.wavelength_A"]

# NumPy is imported inside the functions that return arrays: the command line reads and writes
# every file without it, and starts faster for that.

#: An input file is missing, unreadable or malformed (a ValueError; raised by the native readers too).
InputError = _core.InputError


# ---------------------------------------------------------------------------------------------
# atomic writes

def create_temporary(folder: str, suffix: str = ""):
    """A new, empty file in folder with a unique hidden name; returns (fd, path).

    Created with mode 0666, which the kernel masks with the umask: the mode open() gives any new
    file. The process umask is neither read nor changed (another thread may be writing too)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        path = os.path.join(folder, f".nanobragg-{os.urandom(6).hex()}{suffix}")
        try:
            return os.open(path, flags, 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file in {folder}")


def write_atomic(path: str, data: bytes) -> None:
    """Write data to path through a temporary file in the same folder, then rename."""
    fd, tmp = create_temporary(os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _read_bytes(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise InputError(f"{what} file '{path}': {e.strerror or e}") from None


# ---------------------------------------------------------------------------------------------
# structure factors

#: A structure-factor table as nanoBragg holds it (padded by one plane per axis, l fastest): built in
#: C++ (from a file or :func:`structure_factors.from_arrays`) and shared with the renderer, never
#: copied. ``bounds`` (h_min h_max k_min k_max l_min l_max), ``hkls`` (0 = no table) and ``values``,
#: a read-only float64 NumPy view of shape (h_range+1, k_range+1, l_range+1) (None for no table).
FTable = _core.FTableData


GEMMI_SUFFIXES = (".mtz", ".cif", ".mmcif", ".ent", ".cif.gz", ".mmcif.gz", ".ent.gz")


def is_reflection_file(path: str) -> bool:
    """True for names read through gemmi (MTZ or mmCIF reflections) rather than as HKL text."""
    return str(path).lower().endswith(GEMMI_SUFFIXES)


def read_hkl(path: str, default_F: float = 0.0) -> FTable:
    """Read an ``h k l F`` text file the way nanoBragg.c does (L2140-L2225)."""
    return _core.read_hkl(path, default_F)


def write_fdump(path: str, table: FTable) -> None:
    """Write the Fdump cache: ``"h_min h_max k_min k_max l_min l_max\\n\\f"`` then native doubles."""
    _core.write_fdump(path, table)


def read_fdump(path: str) -> FTable:
    """Read an Fdump cache written by nanoBragg or by :func:`write_fdump`."""
    return _core.read_fdump(path)


# ---------------------------------------------------------------------------------------------
# matrices and sources

def read_matrix(path: str) -> Tuple[float, ...]:
    """First nine numbers of a MOSFLM matrix file, row-major (row r = component r of a*, b*, c*)."""
    tokens = _read_bytes(path, "matrix").decode("latin-1").split()
    if len(tokens) < 9:
        raise InputError(f"matrix file '{path}': needs 9 numbers, found {len(tokens)}")
    try:
        m = [float(t) for t in tokens[:9]]
    except ValueError:
        raise InputError(f"matrix file '{path}': the first 9 entries must be numbers") from None
    if not all(math.isfinite(x) for x in m):
        raise InputError(f"matrix file '{path}': contains non-finite numbers")
    det = (m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
           m[2] * (m[3] * m[7] - m[4] * m[6]))
    if det == 0:
        raise InputError(f"matrix file '{path}': the reciprocal vectors are degenerate")
    return tuple(m)


_DELIMS = r"[ \t,;:!]+"  # the re module is imported where a file needs it: not on a plain run


def read_sourcefile(path: str) -> Tuple[List[float], List[float]]:
    """Sources as (positions, 3 per source, in m; wavelengths in m); missing columns are NaN.

    Columns: X Y Z weight wavelength, separated by whitespace or ``,;:!`` (nanoBragg.c
    read_text_file). The weight column is read and ignored, as in the C.
    """
    xyz, _, lam = read_sourcefile_columns(path)
    return xyz, lam


# The size range of a source's wavelength: -lambda's (the option table's, in A) in metres.
SOURCE_WAVELENGTH_M = tuple(x * 1e-10 for x in (_WAVELENGTH.range.lo, _WAVELENGTH.range.hi))


def read_sourcefile_columns(path: str) -> Tuple[List[float], List[float], List[float]]:
    """(positions, 3 per source; weights; wavelengths) of a source file, missing columns NaN."""
    import re

    xyz: List[float] = []
    weight: List[float] = []
    lam: List[float] = []
    text = _read_bytes(path, "source").decode("latin-1")
    lines = text.splitlines()
    # The C reads the columns missing from a last line without a newline (even a blank one) as 0, not
    # as "not given": a wavelength of 0, and a crash.
    if text and not text.endswith("\n") and len([f for f in re.split(_DELIMS, lines[-1].strip()) if f]) < 5:
        raise InputError(f"source file '{path}' line {len(lines)}: no wavelength on a last line without "
                         "a newline (nanoBragg reads it as 0)")
    for lineno, line in enumerate(lines, 1):
        fields = [f for f in re.split(_DELIMS, line.strip()) if f]
        if not fields:
            continue
        if len(fields) > 5:
            raise InputError(f"source file '{path}' line {lineno}: more than 5 columns")
        try:
            vals = [float(f) for f in fields]
        except ValueError:
            shown = line.strip()[:60].encode("unicode_escape").decode("ascii")  # one printable line
            raise InputError(f"source file '{path}' line {lineno}: not a number in '{shown}'") from None
        if not all(math.isfinite(v) for v in vals):
            raise InputError(f"source file '{path}' line {lineno}: non-finite number")
        vals += [math.nan] * (5 - len(vals))
        # 0: the C divides by it (and crashes); a missing one (NaN) is -lambda's
        if not (math.isnan(vals[4]) or SOURCE_WAVELENGTH_M[0] <= abs(vals[4]) <= SOURCE_WAVELENGTH_M[1]):
            raise InputError(f"source file '{path}' line {lineno}: the wavelength (m) must be between "
                             f"{SOURCE_WAVELENGTH_M[0]:g} and {SOURCE_WAVELENGTH_M[1]:g} in size, got {vals[4]:g}")
        xyz += vals[:3]
        weight.append(vals[3])
        lam.append(vals[4])
    if not lam:
        raise InputError(f"source file '{path}': no sources")
    return xyz, weight, lam


# ---------------------------------------------------------------------------------------------
# SMV

class SMVImage:
    """An SMV (ADSC) image: the text header and native-order uint16 pixels."""

    __slots__ = ("header", "header_bytes", "width", "height", "pixels")

    def __init__(self, header: str, header_bytes: int, width: int, height: int, pixels: bytes):
        self.header = header
        self.header_bytes = header_bytes
        self.width = width    # SIZE1, fast
        self.height = height  # SIZE2, slow
        self.pixels = pixels  # native-order uint16, height x width

    def __repr__(self) -> str:
        return f"SMVImage({self.width}x{self.height}, header_bytes={self.header_bytes})"

    @property
    def data(self):
        """The pixels as a (height, width) uint16 NumPy array (a view of the bytes)."""
        import numpy as np

        return np.frombuffer(self.pixels, dtype=np.uint16).reshape(self.height, self.width)

    def value(self, key: str) -> float:
        """nanoBragg's ValueOf(): the number after the '=' following the LAST occurrence of key."""
        pos = self.header.rfind(key)
        if pos < 0:
            return math.nan
        eq = self.header.find("=", pos + len(key))
        if eq < 0:
            return 0.0
        return _atof(self.header[eq + 1:])


def _atof(text: str) -> float:
    """C's atof(): the longest prefix strtod() reads (decimal, hex, inf, infinity, nan), else 0."""
    import re

    m = re.match(r"[ \t\n\v\f\r]*([-+]?)(?:(inf(?:inity)?)|(nan)(?:\([0-9a-z_]*\))?|"
                 r"(0x(?:[0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p[-+]?\d+)?)|((?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?))",
                 text, re.IGNORECASE)
    if not m:
        return 0.0
    sign, inf, nan, hexa, dec = m.groups()
    if nan:
        return math.nan
    if inf:
        return -math.inf if sign == "-" else math.inf
    return float.fromhex(sign + hexa) if hexa else float(sign + dec)


def _header_int(image: SMVImage, key: str) -> int:
    """An integer header field (truncated); 0, which the callers refuse, when missing or not finite."""
    v = image.value(key)
    return int(v) if math.isfinite(v) else 0


def read_smv(path: str) -> SMVImage:
    """Read an SMV (ADSC) image: its header and uint16 pixels."""
    raw = _read_bytes(path, "SMV")
    if not raw.startswith(b"{\nHEADER_BYT"):
        raise InputError(f"SMV file '{path}': does not look like an SMV/ADSC image")
    head = raw[:512].split(b"\0", 1)[0].decode("latin-1")
    probe = SMVImage(head, 512, 0, 0, b"")
    nbytes = _header_int(probe, "HEADER_BYTES")
    if nbytes < 32 or nbytes > len(raw):
        raise InputError(f"SMV file '{path}': bad HEADER_BYTES")
    head = raw[:nbytes].split(b"\0", 1)[0].decode("latin-1")
    if "BYTE_ORDER=" not in head:  # nanoBragg.c takes strstr()'s NULL + 11 for it and crashes
        raise InputError(f"SMV file '{path}': no BYTE_ORDER= in its header")
    probe = SMVImage(head, nbytes, 0, 0, b"")
    w, h = _header_int(probe, "SIZE1"), _header_int(probe, "SIZE2")
    if w <= 0 or h <= 0:
        raise InputError(f"SMV file '{path}': SIZE1/SIZE2 missing or not positive")
    need = nbytes + 2 * w * h
    if len(raw) < need:
        raise InputError(f"SMV file '{path}': truncated ({len(raw)} of {need} bytes)")
    # Same as nanoBragg.c: the pixels are taken in native order whatever BYTE_ORDER says.
    return SMVImage(head, nbytes, w, h, raw[nbytes:need])


def smv_header_block(entries) -> bytes:
    """The 512-byte SMV header both C programs write around their own entries ("KEY=value;"):
    the opening brace and format keys, the entries, DETECTOR_SN and BEAMLINE, "}\\f", spaces
    (longer, as the C's, when the numbers take more room: HEADER_BYTES still says 512)."""
    lines = ["{", "HEADER_BYTES=512;", "DIM=2;", "BYTE_ORDER=little_endian;", "TYPE=unsigned_short;",
             *entries, "DETECTOR_SN=000;", "BEAMLINE=fake;"]
    text = ("\n".join(lines) + "\n}\f").encode("ascii")
    # Long numbers can take the text past 512 bytes: the C writes it whole, unpadded, all the same.
    return text + b" " * (512 - len(text))


def smv_header(values: Dict[str, object]) -> bytes:
    """The 512-byte header nanoBragg writes (L3163-L3182): keys, order, %g numbers and padding
    (longer, as the C's, when the numbers take more room: HEADER_BYTES still says 512)."""
    g = lambda x: "%g" % x  # noqa: E731
    entries = [
        f"SIZE1={values['SIZE1']};", f"SIZE2={values['SIZE2']};",
        f"PIXEL_SIZE={g(values['PIXEL_SIZE'])};", f"DISTANCE={g(values['DISTANCE'])};",
        f"WAVELENGTH={g(values['WAVELENGTH'])};",
        f"BEAM_CENTER_X={g(values['BEAM_CENTER_X'])};", f"BEAM_CENTER_Y={g(values['BEAM_CENTER_Y'])};",
        f"ADXV_CENTER_X={g(values['ADXV_CENTER_X'])};", f"ADXV_CENTER_Y={g(values['ADXV_CENTER_Y'])};",
        f"MOSFLM_CENTER_X={g(values['MOSFLM_CENTER_X'])};", f"MOSFLM_CENTER_Y={g(values['MOSFLM_CENTER_Y'])};",
        f"DENZO_X_BEAM={g(values['DENZO_X_BEAM'])};", f"DENZO_Y_BEAM={g(values['DENZO_Y_BEAM'])};",
        "DIALS_ORIGIN=%s,%s,%s" % tuple(g(v) for v in values["DIALS_ORIGIN"]),
        f"XDS_ORGX={g(values['XDS_ORGX'])};", f"XDS_ORGY={g(values['XDS_ORGY'])};",
        f"CLOSE_DISTANCE={g(values['CLOSE_DISTANCE'])};",
        f"PHI={g(values['PHI'])};", f"OSC_START={g(values['OSC_START'])};", f"OSC_RANGE={g(values['OSC_RANGE'])};",
        f"TWOTHETA={g(values['TWOTHETA'])};",
    ]
    if "ADC_OFFSET" in values:  # -smv_header dials only (formats/smv_header.py); the C writes none
        entries.append(f"ADC_OFFSET={g(values['ADC_OFFSET'])};")
    return smv_header_block(entries)


def write_smv(path: str, header: bytes, pixels) -> None:
    """Write an SMV image: a 512-byte header (see :func:`smv_header`) and little-endian uint16 pixels."""
    import numpy as np

    write_atomic(path, header + np.ascontiguousarray(pixels, dtype="<u2").tobytes())


def write_float_image(path: str, image) -> None:
    """Raw little-endian float32, slow index outer (nanoBragg's floatimage.bin)."""
    import numpy as np

    write_atomic(path, np.ascontiguousarray(image, dtype="<f4").tobytes())


def read_float_image(path: str, shape: Tuple[int, int]):
    import numpy as np

    raw = _read_bytes(path, "float image")
    if len(raw) != 4 * shape[0] * shape[1]:
        raise InputError(f"float image '{path}': {len(raw)} bytes, expected {4 * shape[0] * shape[1]}")
    return np.frombuffer(raw, dtype="<f4").reshape(shape)


def pgm_bytes(pixels, scale: float) -> bytes:
    """A binary PGM (P5) with nanoBragg's comment line; pixels are uint8 already scaled."""
    import numpy as np

    h, w = pixels.shape
    head = b"P5\n%d %d\n# pixels scaled by %s\n255\n" % (w, h, (b"%g" % scale))
    return head + np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()


def read_pgm(path: str):
    import re

    import numpy as np

    raw = _read_bytes(path, "PGM")
    m = re.match(rb"P5\s+(?:#[^\n]*\n\s*)*(\d+)\s+(?:#[^\n]*\n\s*)*(\d+)\s+(?:#[^\n]*\n\s*)*(\d+)\s", raw)
    if not m:
        raise InputError(f"PGM file '{path}': not a binary (P5) PGM")
    w, h = int(m.group(1)), int(m.group(2))
    start = m.end()
    if len(raw) < start + w * h:
        raise InputError(f"PGM file '{path}': truncated")
    return np.frombuffer(raw[start:start + w * h], dtype=np.uint8).reshape(h, w)
