"""Amorphous backgrounds (water, air, ice ...) added to a caller-owned float image: the nonBragg
stage of a simulation, usable after a Bragg render and before a detector model.

    from nanobragg_ext.background import Background, Material
    bg = Background(["-detpixels", "1024", "-distance", "100", "-flux", "1e12"],
                    [Material("water", thickness_mm=0.1), Material("air", thickness_mm=50, density=0.0012,
                                                                  molecular_weight=28.97)])
    bg.add_to(image)   # float32, shape (slow, fast): adds each material's photons/pixel in place

The geometry and beam are given with nonBragg's own options (the same detector frame, beam
centre and pixel-count rules as ``nanobragg-ext nonbragg``), so a Background equals nonBragg run
once per material and the float files summed.
"""
from __future__ import annotations

import math

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import List, Optional, Sequence

from .options import OptionError


class Material:
    """One amorphous material: its F(stol) table (a shipped name such as "water" or a file path),
    its thickness along the beam (mm), density (g/cm^3) and molecular weight (g/mol); width and
    height (mm) default to nonBragg's 0.1 mm, clipped by the beam."""

    __slots__ = ("table", "thickness_mm", "density", "molecular_weight", "width_mm", "height_mm", "table_kind")

    def __init__(self, table: str, thickness_mm: float = 0.1, density: float = 1.0, molecular_weight: float = 18.0,
                 width_mm: Optional[float] = None, height_mm: Optional[float] = None, table_kind: str = "stol"):
        for name, value in (("thickness_mm", thickness_mm), ("density", density), ("width_mm", width_mm),
                            ("height_mm", height_mm)):
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise OptionError(f"Material {table}: {name} must be zero or positive, got {value}")
        if not (math.isfinite(molecular_weight) and molecular_weight > 0):
            raise OptionError(f"Material {table}: molecular_weight must be positive, got {molecular_weight}")
        if table_kind not in ("stol", "4stol", "Q"):
            raise OptionError(f"Material {table}: table_kind must be 'stol', '4stol' or 'Q', got {table_kind!r}")
        self.table, self.thickness_mm, self.density = table, thickness_mm, density
        self.molecular_weight, self.width_mm, self.height_mm, self.table_kind = molecular_weight, width_mm, height_mm, table_kind

    def args(self) -> List[str]:
        a = ["-" + self.table_kind, self.table, "-thick", repr(self.thickness_mm), "-density", repr(self.density),
             "-MW", repr(self.molecular_weight)]
        if self.width_mm is not None:
            a += ["-width", repr(self.width_mm)]
        if self.height_mm is not None:
            a += ["-height", repr(self.height_mm)]
        return a

    def __repr__(self) -> str:
        return (f"Material({self.table!r}, thickness_mm={self.thickness_mm}, density={self.density}, "
                f"molecular_weight={self.molecular_weight})")


def followed_spectrum(request, spectrum):
    """The spectrum a material's nonBragg beam follows (a NonBraggRequest's): none when its options
    give a wavelength, else spectrum (the Bragg run's, None without one)."""
    return None if request.wavelength_options else spectrum


class Background:
    """The scattering of one or more materials for a detector and beam given as nonBragg options
    (everything but the table and sample options). corrected: nanobragg-ext's corrected table
    reading (comment lines skipped, strictly increasing tables, order-independent look-up).
    backend: "cpu", "cuda" (the same image on a GPU; RuntimeError saying why without one) or "auto".

    spectrum: a spectra.Spectrum (the Bragg run's) that the materials' beams follow: each material
    whose options give no wavelength (-lambda, -wave, -energy, -dispersion, -dispsteps,
    -sourcefile) gets, in every divergence direction of its own options, one source per line,
    weighted and normalised as the Bragg image (docs/spectra.md). None: nonBragg's own beam.
    :meth:`add_to`, :meth:`render` and :meth:`material_images` take another spectrum per call
    (a dataset's per-frame SASE shot)."""

    def __init__(self, args: Sequence[str], materials: Sequence[Material], corrected: bool = False,
                 threads: int = 0, backend: str = "cpu", spectrum=None):
        if not materials:
            raise OptionError("Background needs at least one Material")
        self.materials = list(materials)
        self._prepare([list(args) + m.args() + (["-corrected"] if corrected else []) for m in self.materials],
                      threads, backend, spectrum)

    @classmethod
    def from_groups(cls, groups: Sequence[Sequence[str]], threads: int = 0, backend: str = "cpu",
                    spectrum=None) -> "Background":
        """One material per group of complete nonBragg options (``compose``'s -background groups)."""
        if not groups:
            raise OptionError("Background needs at least one group of nonBragg options")
        self = cls.__new__(cls)
        self.materials = []
        self._prepare([list(g) for g in groups], threads, backend, spectrum)
        return self

    def _prepare(self, groups: List[List[str]], threads: int, backend: str, spectrum) -> None:
        from . import nonbragg
        from .nonbragg_options import parse_nonbragg_args

        #: The nonBragg options of each material, as ``nanobragg-ext nonbragg`` would be run.
        self.groups = groups
        self.threads = threads
        self.backend = backend  # "cpu", "cuda" or "auto" (nonbragg.render)
        #: The spectrum the materials without a wavelength of their own follow (None: their own beam).
        self.spectrum = spectrum
        self.warnings: List[str] = []
        self._requests = [parse_nonbragg_args(g) for g in groups]
        self._setups = [nonbragg.prepare(r, self.warnings.append, followed_spectrum(r, spectrum))
                        for r in self._requests]
        shapes = {tuple(s.shape) for s in self._setups}
        if len(shapes) > 1:
            raise OptionError("Background: the materials' detectors differ in size")
        self.shape = shapes.pop()

    def _setups_for(self, spectrum):
        """The materials' native set-ups for spectrum (None: the Background's own)."""
        if spectrum is None or spectrum == self.spectrum:
            return self._setups
        from . import nonbragg

        return [s if followed_spectrum(r, spectrum) is None else nonbragg.prepare(r, lambda w: None, spectrum)
                for r, s in zip(self._requests, self._setups)]

    def add_to(self, image, spectrum=None):
        """Add every material's photons/pixel to image (float32, C-contiguous, shape (slow, fast))
        in place, each as a float32 image added to it; returns image. spectrum: the one the
        materials follow in this call (None: the Background's own)."""
        from .nonbragg import render

        for s in self._setups_for(spectrum):
            render(s, image, self.threads, True, False, self.backend)
        return image

    def render(self, spectrum=None):
        """The background alone, as a new float32 (slow, fast) array."""
        import numpy as np

        return self.add_to(np.zeros(self.shape, dtype=np.float32), spectrum)

    def material_images(self, spectrum=None):
        """Each material's photons/pixel alone (float32 (slow, fast) arrays, in order): adding them
        to an image one after the other is :meth:`add_to` (a dataset renders them once, or once
        per frame when its frames have their own SASE spectra)."""
        import numpy as np

        from .nonbragg import render

        out = []
        for s in self._setups_for(spectrum):
            image = np.zeros(self.shape, dtype=np.float32)
            render(s, image, self.threads, False, False, self.backend)
            out.append(image)
        return out

    def __reduce__(self):
        # The native set-ups are rebuilt from the options (a dataset sends the stage to its workers).
        return (Background.from_groups, (self.groups, self.threads, self.backend, self.spectrum))
