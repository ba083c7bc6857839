"""Named detectors built from the makers' module layouts (``-detector NAME``).

Each preset is a grid of identical modules with fixed gaps, placed square to the beam at the
run's distance, its centre on the direct beam, fast and slow along the run's fdet and sdet.
Gaps are in pixels of the module's pitch: the whole-detector sizes the makers publish follow
from them (e.g. 4 x 1028 + 3 x 12 = 4148 columns for the EIGER2 X 16M).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List

import numpy as np

from .panels import Detector, GeometryError, Panel


@dataclass(frozen=True)
class ModuleLayout:
    modules_fast: int
    modules_slow: int
    module_fpixels: int
    module_spixels: int
    gap_fast: int       # pixels between modules along fast
    gap_slow: int       # pixels between modules along slow
    pixel_size: float   # metres
    thickness: float    # sensor thickness, metres
    material: str

    @property
    def fpixels(self) -> int:
        return self.modules_fast * self.module_fpixels + (self.modules_fast - 1) * self.gap_fast

    @property
    def spixels(self) -> int:
        return self.modules_slow * self.module_spixels + (self.modules_slow - 1) * self.gap_slow


PRESETS: Dict[str, ModuleLayout] = {
    # DECTRIS EIGER2 X 16M: 4 x 8 modules of 1028 x 512 pixels, 75 um, 450 um Si; 4148 x 4362 pixels
    # in all (DECTRIS EIGER2 X technical specifications), so the gaps are 12 (fast) and 38 (slow)
    # pixels. The same module and gaps give the published EIGER2 X 9M (3108 x 3262) and 4M sizes.
    "eiger2_x_16m": ModuleLayout(4, 8, 1028, 512, 12, 38, 75e-6, 450e-6, "Si"),
    # DECTRIS EIGER2 X 4M: 2 x 4 of the same modules; 2068 x 2162 pixels (DECTRIS specifications).
    "eiger2_x_4m": ModuleLayout(2, 4, 1028, 512, 12, 38, 75e-6, 450e-6, "Si"),
    # DECTRIS PILATUS 6M: 5 x 12 modules of 487 x 195 pixels, 172 um, 320 um Si; 2463 x 2527 pixels
    # (DECTRIS PILATUS user manual); gaps of 7 (fast) and 17 (slow) pixels, as in the module-gap
    # masks of dxtbx and XDS for this detector (rows 196-212, columns 488-494, ...).
    "pilatus_6m": ModuleLayout(5, 12, 487, 195, 7, 17, 172e-6, 320e-6, "Si"),
    # PSI JUNGFRAU 4M: 2 x 4 modules of 1024 x 512 pixels (4 x 2 chips of 256 x 256), 75 um,
    # 320 um Si (PSI / European XFEL JUNGFRAU documentation). The gaps between modules depend on
    # the installation and are not a maker's figure: 36 pixels (2.7 mm) both ways here.
    "jungfrau_4m": ModuleLayout(2, 4, 1024, 512, 36, 36, 75e-6, 320e-6, "Si"),
}
ALIASES = {"eiger2x16m": "eiger2_x_16m", "eiger16m": "eiger2_x_16m", "eiger2x4m": "eiger2_x_4m",
           "eiger4m": "eiger2_x_4m", "pilatus6m": "pilatus_6m", "jungfrau4m": "jungfrau_4m"}


def preset_layout(name: str) -> ModuleLayout:
    """The layout of a preset (case, '-', ' ' and '_' ignored); GeometryError lists the known ones."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key.replace("_", ""), key)
    if key not in PRESETS:
        raise GeometryError(f"unknown detector preset '{name}'; known: {', '.join(sorted(PRESETS))}")
    return PRESETS[key]


def preset_detector(name: str, distance: float, beam=(1.0, 0.0, 0.0), fast=(0.0, 0.0, 1.0),
                    slow=(0.0, -1.0, 0.0)) -> Detector:
    """The preset's modules as panels (row-major from the first module), centred on the beam.

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
    panels: List[Panel] = []
    for j in range(lay.modules_slow):
        for i in range(lay.modules_fast):
            step_f, step_s = i * (lay.module_fpixels + lay.gap_fast), j * (lay.module_spixels + lay.gap_slow)
            o = corner + px * (step_f * f + step_s * s)
            panels.append(Panel(f"m{j}_{i}", f, s, o, lay.module_fpixels, lay.module_spixels, px,
                                thickness=lay.thickness, material=lay.material))
    return Detector(panels, tuple(b))
