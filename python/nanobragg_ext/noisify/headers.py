"""The SMV headers of noisify: the one it writes (L531-L539) and the -header file it copies
(GetFrame, L1171-L1274; NOISIFY.md 5.3 and 9.1)."""
from __future__ import annotations

import sys

from ..io import InputError, SMVImage

BYTE_ORDER = "little_endian" if sys.byteorder == "little" else "big_endian"


class HeaderExit(Exception):
    """The C's own exit 9 while reading a -header file (too short for its header)."""


def noisify_header(bits: int, width: int, height: int, pixel: float, distance: float, lambda_: float,
                   Xbeam: float, Ybeam: float, detsize_y: float, phi0: float, osc: float) -> bytes:
    """noisify's 512-byte header (lengths in m, printed in mm); -bits other than 16 or 32 drops
    the first line group (N10)."""
    head = ""
    if bits == 16:
        head += f"{{\nHEADER_BYTES=512;\nDIM=2;\nBYTE_ORDER={BYTE_ORDER};\nTYPE=unsigned_short;\n"
    if bits == 32:
        head += f"{{\nHEADER_BYTES=512;\nDIM=2;\nBYTE_ORDER={BYTE_ORDER};\nTYPE=long_integer;\n"
    head += "SIZE1=%d;\nSIZE2=%d;\nPIXEL_SIZE=%g;\nDISTANCE=%g;\n" % (width, height, pixel * 1000.0, distance * 1000.0)
    head += "WAVELENGTH=%g;\nBEAM_CENTER_X=%g;\nBEAM_CENTER_Y=%g;\n" % (lambda_, Xbeam * 1000.0,
                                                                      (detsize_y - Ybeam) * 1000)
    head += "PHI=%g;\nOSC_START=%g;\nOSC_RANGE=%g;\n" % (phi0, phi0, osc)
    head += "DETECTOR_SN=000;\nBEAMLINE=fake;\n}\f"
    return head.encode("latin-1").ljust(512, b" ")


class HeaderFile:
    """A -header file as GetFrame reads it: the raw header bytes that both outputs copy, and
    the keys main() takes from it."""

    def __init__(self, path: str) -> None:
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError as e:
            raise InputError(f"-header file '{path}': {e.strerror or e}") from None
        if len(raw) < 512:
            raise HeaderExit(f"-header file '{path}': shorter than 512 bytes")
        if not raw.startswith(b"{\nHEADER_BYT"):
            raise InputError(f"-header file '{path}': does not look like an ADSC (SMV) frame")
        probe = SMVImage(raw[:512].split(b"\0", 1)[0].decode("latin-1"), 512, 0, 0, b"")
        size = probe.value("HEADER_BYTES")
        if not 0 < size < 1 << 31:
            raise InputError(f"-header file '{path}': bad HEADER_BYTES")
        size = int(size)
        if size != 512 and len(raw) < size:
            raise HeaderExit(f"-header file '{path}': shorter than its HEADER_BYTES={size}")
        self.header = raw[:size]  # copied verbatim into both outputs (N11)
        self.smv = SMVImage(self.header.split(b"\0", 1)[0].decode("latin-1"), size, 0, 0, b"")
        width, height = self._int("SIZE1"), self._int("SIZE2")
        if width == 0:
            width = height = self._int("DETECTOR_DIMENSIONS")
        if width <= 0 or height <= 0:
            raise InputError(f"-header file '{path}': SIZE1/SIZE2 missing or not positive")
        self.width, self.height = width, height

    def value(self, key: str) -> float:
        return self.smv.value(key)

    def _int(self, key: str) -> int:
        v = self.smv.value(key)  # the C's (int) ValueOf(): NaN when the key is missing
        return int(v) if abs(v) < 1 << 31 else -1
