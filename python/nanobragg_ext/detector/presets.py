"""Named detectors built from the makers' module layouts (``-detector NAME``).

Each preset is a grid of identical modules with fixed gaps, placed square to the beam at the
run's distance, its centre on the direct beam, fast and slow along the run's fdet and sdet.
Gaps are in pixels of the module's pitch: the whole-detector sizes the makers publish follow
from them (e.g. 4 x 1028 + 3 x 12 = 4148 columns for the EIGER2 X 16M). A module of several
chips whose edge pixels are larger (JUNGFRAU) is one panel per chip, the chips ``chip_gap``
pixels apart: the extra width of the edge pixels becomes a gap, as CrystFEL geometries of these
detectors have it. Each panel carries the sensor (thickness, material), which renders with
parallax and absorption unless the command line gives its own (-detector_thick, -detector_abs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np

from .panels import Detector, GeometryError, Panel


@dataclass(frozen=True)
class ModuleLayout:
    modules_fast: int
    modules_slow: int
    module_fpixels: int  # a module's extent in pixels of the pitch, chip gaps included
    module_spixels: int
    gap_fast: int       # pixels between modules along fast
    gap_slow: int       # pixels between modules along slow
    pixel_size: float   # metres
    thickness: float    # sensor thickness, metres
    material: str
    chips: Tuple[int, int] = (1, 1)  # panels per module (fast, slow)
    chip_gap: int = 0                # pixels between the chips of a module

    @property
    def fpixels(self) -> int:
        return self.modules_fast * self.module_fpixels + (self.modules_fast - 1) * self.gap_fast

    @property
    def spixels(self) -> int:
        return self.modules_slow * self.module_spixels + (self.modules_slow - 1) * self.gap_slow

    @property
    def chip_pixels(self) -> Tuple[int, int]:
        """(fast, slow) pixels of one panel."""
        return ((self.module_fpixels - (self.chips[0] - 1) * self.chip_gap) // self.chips[0],
                (self.module_spixels - (self.chips[1] - 1) * self.chip_gap) // self.chips[1])


PRESETS: Dict[str, ModuleLayout] = {
    # DECTRIS EIGER2 X 16M: 4 x 8 modules of 1028 x 512 pixels, 75 um, 450 um Si; 4148 x 4362 pixels
    # in all (DECTRIS EIGER2 X technical specifications), gaps 12 (fast) and 38 (slow) pixels: the
    # same module and gaps as dxtbx's detector table ("Eiger 2X" in dxtbx/format/FormatPilatusHelpers.py,
    # whose get_vendortype_eiger gives 4148 x 4362 for the 16M, 3108 x 3262 for the 9M, 2068 x 2162 for the 4M).
    "eiger2_x_16m": ModuleLayout(4, 8, 1028, 512, 12, 38, 75e-6, 450e-6, "Si"),
    # DECTRIS EIGER2 X 4M: 2 x 4 of the same modules; 2068 x 2162 pixels (same sources).
    "eiger2_x_4m": ModuleLayout(2, 4, 1028, 512, 12, 38, 75e-6, 450e-6, "Si"),
    # DECTRIS EIGER X 16M (first generation): 4 x 8 modules of 1030 x 514 pixels, gaps 10 and 37,
    # 4150 x 4371 pixels, 75 um, 450 um Si (DECTRIS EIGER X specifications; dxtbx's "Eiger X" entry).
    "eiger_x_16m": ModuleLayout(4, 8, 1030, 514, 10, 37, 75e-6, 450e-6, "Si"),
    # DECTRIS PILATUS 6M: 5 x 12 modules of 487 x 195 pixels, 172 um, 320 um Si; 2463 x 2527 pixels
    # (DECTRIS PILATUS user manual: "0.32 mm thick silicon sensor"); gaps of 7 (fast) and 17 (slow)
    # pixels, as in dxtbx's pilatus_6M_mask (columns 488-494, rows 196-212, ...). The PILATUS3 X 6M
    # is sold with 450 or 1000 um Si: give -detector_thick for those.
    "pilatus_6m": ModuleLayout(5, 12, 487, 195, 7, 17, 172e-6, 320e-6, "Si"),
    # PSI JUNGFRAU 4M: 2 x 4 modules; a module is 4 x 2 chips of 256 x 256 pixels of 75 um on one
    # 320 um Si sensor (PSI/European XFEL JUNGFRAU documentation, "JUNGFRAU basics"), 1024 x 512
    # read-out pixels; the chip-edge pixels are double (corner ones quadruple), so the module spans
    # 1030 x 514 pixels of 75 um (PSI jungfraujoch: CONVERTED_MODULE_COLS/LINES): chips 2 pixels apart.
    # The gaps between modules depend on the installation and are no maker's figure: 36 pixels
    # (2.7 mm) both ways here, a placeholder; give the real layout as a .geom (-geom).
    "jungfrau_4m": ModuleLayout(2, 4, 1030, 514, 36, 36, 75e-6, 320e-6, "Si", chips=(4, 2), chip_gap=2),
}
ALIASES = {"eiger2x16m": "eiger2_x_16m", "eiger16m": "eiger2_x_16m", "eiger2x4m": "eiger2_x_4m",
           "eiger4m": "eiger2_x_4m", "eigerx16m": "eiger_x_16m", "pilatus6m": "pilatus_6m", "jungfrau4m": "jungfrau_4m"}


def preset_layout(name: str) -> ModuleLayout:
    """The layout of a preset (case, '-', ' ' and '_' ignored); GeometryError lists the known ones."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key.replace("_", ""), key)
    if key not in PRESETS:
        raise GeometryError(f"unknown detector preset '{name}'; known: {', '.join(sorted(PRESETS))}")
    return PRESETS[key]


def preset_detector(name: str, distance: float, beam=(1.0, 0.0, 0.0), fast=(0.0, 0.0, 1.0),
                    slow=(0.0, -1.0, 0.0)) -> Detector:
    """The preset's modules (or chips) as panels, row-major from the first module, centred on the beam.

    distance: metres from the sample along the beam; fast, slow: unit axes of the detector plane
    (a MOSFLM-frame run's defaults).
    """
    lay = preset_layout(name)
    if not distance > 0:
        raise GeometryError(f"detector preset '{name}': distance must be positive, got {distance}")
    b, f, s = (np.asarray(v, dtype=np.float64) for v in (beam, fast, slow))
    b, f, s = b / np.linalg.norm(b), f / np.linalg.norm(f), s / np.linalg.norm(s)
    px = lay.pixel_size
    corner = distance * b - 0.5 * px * (lay.fpixels * f + lay.spixels * s)
    (cf, cs), many = lay.chip_pixels, lay.chips != (1, 1)
    panels: List[Panel] = []
    for j in range(lay.modules_slow):
        for i in range(lay.modules_fast):
            for cj in range(lay.chips[1]):
                for ci in range(lay.chips[0]):
                    step_f = i * (lay.module_fpixels + lay.gap_fast) + ci * (cf + lay.chip_gap)
                    step_s = j * (lay.module_spixels + lay.gap_slow) + cj * (cs + lay.chip_gap)
                    o = corner + px * (step_f * f + step_s * s)
                    name = f"m{j}_{i}" + (f"a{cj * lay.chips[0] + ci}" if many else "")
                    panels.append(Panel(name, f, s, o, cf, cs, px, thickness=lay.thickness, material=lay.material))
    return Detector(panels, tuple(b))
