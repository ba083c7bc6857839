"""Write python/nanobragg_ext/data/stol/helium.stol: the X-ray scattering of one helium atom.

Helium gas is monatomic and dilute, so atoms scatter independently (no interference term) and the
scattering of one atom, relative to one free electron, is the coherent part f(s)^2 plus the
incoherent (Compton) part S(s), s = sin(theta)/lambda in 1/Angstrom. nonBragg squares the table's
F column, so the table holds F(s) = sqrt(f(s)^2 + S(s)): F(0) = 2 (two electrons), F -> sqrt(2)
at high angle. The shipped air and water tables include the incoherent part as well (see the
README beside the tables).

Sources (the numbers are written below; the script reads nothing and needs no network):
- f(s): the 4-Gaussian fit f = sum a_i exp(-b_i s^2) + c of International Tables for
  Crystallography Vol. C (2006), Table 6.1.1.4 (Brown, Fox, Maslen, O'Keefe & Willis), for He;
  the fit covers 0 <= s <= 2 1/A.
- S(s): Hubbell, Veigele, Briggs, Brown, Cromer & Howerton (1975), J. Phys. Chem. Ref. Data 4,
  471, S(x, Z=2) (configuration-interaction wavefunctions of Brown for Z = 2), x = sin(theta/2)/
  lambda with theta the scattering angle, i.e. our s; the values at that table's x points as
  distributed in xraylib's data/SF.dat (tschoonj/xraylib), 0.005 <= x <= 2. S(0) = 0.
  Between the points S is interpolated with a monotone piecewise cubic (Fritsch & Carlson 1980,
  SIAM J. Numer. Anal. 17, 238); against the 54 further points of xraylib's finer grid in that
  range F differs by at most 0.07 %.

Run:  python tools/make_helium_stol.py  (rewrites the shipped file).
"""
from __future__ import annotations

import math
import os
import sys

#: International Tables Vol. C Table 6.1.1.4, He: a1..a4, b1..b4 (A^2), c.
IT92_A = (0.8734, 0.6309, 0.3112, 0.1780)
IT92_B = (9.1037, 3.3568, 22.9276, 0.9821)
IT92_C = 0.0064

#: Hubbell et al. (1975) S(x, Z=2) at that table's x points (1/A), with S(0) = 0 added.
HUBBELL_X = (0.0, 0.005, 0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.07, 0.09, 0.1, 0.125,
             0.15, 0.175, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 2.0)
HUBBELL_S = (0.0, 0.0021, 0.005, 0.0088, 0.0141, 0.02059, 0.0299, 0.0519, 0.08054, 0.15347,
             0.24502, 0.29575, 0.43215, 0.58352, 0.73603, 0.88056, 1.1457, 1.3624, 1.6566,
             1.8175, 1.9023, 1.9467, 1.9702, 1.9829, 1.9899, 1.9971, 1.999, 1.9999)

#: The shipped grid: s = 0, 0.005, ..., 2 (1/A); beyond 2 nonBragg holds the last F.
STEP = 0.005
ROWS = 401

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "python", "nanobragg_ext", "data",
                      "stol", "helium.stol")


def coherent_f(s: float) -> float:
    """Atomic form factor of He (electrons) at s = sin(theta)/lambda."""
    s2 = s * s
    return sum(a * math.exp(-b * s2) for a, b in zip(IT92_A, IT92_B)) + IT92_C


def _pchip_slopes(x, y):
    """Fritsch-Carlson slopes: a monotone cubic through monotone data, no overshoot. The end
    slopes are 0: S is even in s (so S'(0) = 0) and has levelled off at Z by s = 2."""
    h = [x[i + 1] - x[i] for i in range(len(x) - 1)]
    d = [(y[i + 1] - y[i]) / h[i] for i in range(len(x) - 1)]
    m = [0.0] * len(x)
    for i in range(1, len(x) - 1):
        if d[i - 1] * d[i] > 0:
            w1, w2 = 2 * h[i] + h[i - 1], h[i] + 2 * h[i - 1]
            m[i] = (w1 + w2) / (w1 / d[i - 1] + w2 / d[i])
    return m


_SLOPES = _pchip_slopes(HUBBELL_X, HUBBELL_S)


def incoherent_S(s: float) -> float:
    """Hubbell's S(x, 2) at s (0 <= s <= 2), interpolated between the tabulated points."""
    x, y, m = HUBBELL_X, HUBBELL_S, _SLOPES
    if not 0.0 <= s <= x[-1]:
        raise ValueError(f"s = {s} outside the tabulated 0 .. {x[-1]} 1/A")
    i = max(j for j in range(len(x) - 1) if x[j] <= s) if s < x[-1] else len(x) - 2
    h = x[i + 1] - x[i]
    t = (s - x[i]) / h
    return ((2 * t ** 3 - 3 * t ** 2 + 1) * y[i] + (t ** 3 - 2 * t ** 2 + t) * h * m[i]
            + (-2 * t ** 3 + 3 * t ** 2) * y[i + 1] + (t ** 3 - t ** 2) * h * m[i + 1])


def structure_factor(s: float) -> float:
    """F(s) of one helium atom: sqrt(f^2 + S)."""
    return math.sqrt(coherent_f(s) ** 2 + incoherent_S(s))


def table_text() -> str:
    """The file's text: 'stol F' per row, no comment lines (nonBragg reads them as (0, 0))."""
    rows = []
    for i in range(ROWS):
        s = round(i * STEP, 3)
        rows.append(f"{s:.3f} {structure_factor(s):.6f}\n")
    return "".join(rows)


def main() -> int:
    with open(OUTPUT, "w", newline="\n") as f:
        f.write(table_text())
    print(f"wrote {os.path.normpath(OUTPUT)} ({ROWS} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
