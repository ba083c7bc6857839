"""Sensor materials: the attenuation length of a panel's sensor at the run's photon energy.

Mass attenuation coefficients mu/rho (total, coherent scattering included) from J. H. Hubbell
and S. M. Seltzer, "Tables of X-Ray Mass Attenuation Coefficients and Mass Energy-Absorption
Coefficients", NIST Standard Reference Database 126 (NISTIR 5632), Table 3, 1-200 keV, edges
listed twice; the compounds are the same values as cctbx's eltbx attenuation_coefficient table
(the one dxtbx uses for a panel's mu), so a panel's mu here equals the one DIALS computes.
Interpolation is log-log between tabulated energies, as NIST advises and cctbx does.
Densities: Si 2.33, Ge 5.323, GaAs 5.32 g/cm^3 (the NIST/cctbx values); CdTe 5.85 g/cm^3 (CRC
Handbook of Chemistry and Physics; cctbx's table uses 6.2, which would give a 6 % shorter length).
"""
from __future__ import annotations

import bisect
import math
from typing import Dict, List, Tuple

from .panels import GeometryError

HC_EV_A = 12398.419843320026  # h c in eV * Angstrom (CODATA 2018)

# name: (density g/cm^3, [(energy keV, mu/rho cm^2/g), ...] ascending, edges repeated)
_TABLES: Dict[str, Tuple[float, List[Tuple[float, float]]]] = {
    "Si": (2.33, [
        (1.0, 1570.0), (1.5, 535.5), (1.8389, 309.2), (1.8389, 3192.0), (2.0, 2777.0), (3.0, 978.4),
        (4.0, 452.9), (5.0, 245.0), (6.0, 147.0), (8.0, 64.68), (10.0, 33.89), (15.0, 10.34), (20.0, 4.464),
        (30.0, 1.436), (40.0, 0.7012), (50.0, 0.4385), (60.0, 0.3207), (80.0, 0.2228), (100.0, 0.1835),
        (150.0, 0.1448), (200.0, 0.1275)]),
    "Ge": (5.323, [
        (1.0, 1893.0), (1.10304, 1502.0), (1.2167, 1190.0), (1.2167, 4389.0), (1.23215, 4734.0), (1.2478, 4974.0),
        (1.2478, 6698.0), (1.32844, 6348.0), (1.4143, 5554.0), (1.4143, 6287.0), (1.5, 5475.0), (2.0, 2711.0),
        (3.0, 961.3), (4.0, 449.7), (5.0, 247.2), (6.0, 150.9), (8.0, 68.9), (10.0, 37.42), (11.1031, 28.11),
        (11.1031, 198.1), (15.0, 91.52), (20.0, 42.22), (30.0, 13.85), (40.0, 6.207), (50.0, 3.335),
        (60.0, 2.023), (80.0, 0.9501), (100.0, 0.555), (150.0, 0.2491), (200.0, 0.1661)]),
    "GaAs": (5.32, [
        (1.0, 1917.0), (1.05613, 1685.0), (1.1154, 1481.0), (1.1154, 2772.0), (1.12877, 3180.0), (1.1423, 3532.0),
        (1.1423, 4372.0), (1.21752, 4130.0), (1.2977, 3657.0), (1.2977, 4066.0), (1.31034, 3971.0), (1.3231, 3879.0),
        (1.3231, 5652.0), (1.34073, 5525.0), (1.3586, 5415.0), (1.3586, 6266.0), (1.5, 5159.0), (1.5265, 4939.0),
        (1.5265, 5278.0), (2.0, 2731.0), (3.0, 970.2), (4.0, 453.9), (5.0, 249.5), (6.0, 152.4), (8.0, 69.6),
        (10.0, 37.8), (10.3671, 34.25), (10.3671, 126.0), (11.0916, 105.9), (11.8667, 88.99), (11.8667, 168.5),
        (15.0, 92.2), (20.0, 42.58), (30.0, 13.97), (40.0, 6.262), (50.0, 3.365), (60.0, 2.042), (80.0, 0.9587),
        (100.0, 0.5598), (150.0, 0.2509), (200.0, 0.1671)]),
    "CdTe": (5.85, [
        (1.0, 7927.0), (1.003, 7875.0), (1.006, 7824.0), (1.006, 8014.0), (1.5, 3291.0), (2.0, 1664.0),
        (3.0, 614.6), (3.537, 406.4), (3.537, 778.7), (3.631, 730.0), (3.727, 684.0), (3.727, 860.1), (4.0, 723.0),
        (4.018, 715.1), (4.018, 793.4), (4.177, 722.1), (4.341, 656.2), (4.341, 932.8), (4.475, 873.9),
        (4.612, 813.5), (4.612, 943.8), (4.773, 870.2), (4.939, 799.9), (4.939, 865.3), (5.0, 839.2),
        (6.0, 528.6), (8.0, 249.2), (10.0, 138.1), (15.0, 46.57), (20.0, 21.44), (26.711, 9.834),
        (26.711, 29.43), (30.0, 21.82), (31.814, 18.73), (31.814, 34.92), (40.0, 19.3), (50.0, 10.67),
        (60.0, 6.542), (80.0, 3.019), (100.0, 1.671), (150.0, 0.6071), (200.0, 0.3246)]),
}
_ALIASES = {name.lower(): name for name in _TABLES}


def known_materials() -> List[str]:
    return sorted(_TABLES)


def material_name(name: str) -> str:
    """The table's spelling of a material (case ignored); GeometryError lists the known ones."""
    key = _ALIASES.get(str(name).strip().lower())
    if key is None:
        raise GeometryError(f"sensor material '{name}' has no attenuation table; known: "
                            f"{', '.join(known_materials())} (or give the attenuation length, -detector_abs)")
    return key


def mass_attenuation(name: str, energy_keV: float) -> float:
    """mu/rho in cm^2/g at energy_keV (1-200 keV), log-log between the tabulated energies; just
    above an edge the value above the edge."""
    rows = _TABLES[material_name(name)][1]
    energies = [e for e, _ in rows]
    if not energies[0] <= energy_keV <= energies[-1]:
        raise GeometryError(f"sensor material {name}: photon energy {energy_keV:g} keV is outside the "
                            f"tabulated {energies[0]:g}-{energies[-1]:g} keV")
    i = min(bisect.bisect_right(energies, energy_keV) - 1, len(rows) - 2)  # on an edge: the row above it
    (e0, m0), (e1, m1) = rows[i], rows[i + 1]
    t = math.log(energy_keV / e0) / math.log(e1 / e0)
    return math.exp(math.log(m0) + t * math.log(m1 / m0))


def attenuation_mu(name: str, wavelength_m: float) -> float:
    """Linear attenuation coefficient (1/m) of the material at this wavelength."""
    energy_keV = HC_EV_A / (wavelength_m * 1e10) / 1000.0
    density = _TABLES[material_name(name)][0]
    return mass_attenuation(name, energy_keV) * density * 100.0  # cm^-1 -> m^-1
