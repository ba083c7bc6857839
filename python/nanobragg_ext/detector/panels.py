"""The detector model: flat panels in nanoBragg's lab frame (metres), each with its own axes.

A panel's pixel (f, s) has its centre at ``origin + (f + 0.5) * pixel_size * fast + (s + 0.5) *
pixel_size * slow``: ``origin`` is the outer corner of the first pixel, the same point as
nanoBragg's pix0 vector. Every vector is in the lab frame of the run (the frame of its
convention: beam along +x for MOSFLM, +z for XDS, ...), lengths in metres.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

Vec = Tuple[float, float, float]


class GeometryError(ValueError):
    """A detector that cannot be rendered or a geometry file that cannot be read (the message
    names the file, line and key where there is one)."""


def _vec(v, what: str) -> Vec:
    a = np.asarray(v, dtype=np.float64)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise GeometryError(f"{what}: expected three finite numbers, got {v!r}")
    return (float(a[0]), float(a[1]), float(a[2]))


@dataclass
class Panel:
    """One flat rectangular panel.

    fast, slow: unit vectors along increasing fast / slow pixel index (normalised here).
    origin: outer corner of pixel (0, 0), metres. pixel_size: metres (square pixels).
    mask: optional (slow, fast) array, 0 = pixel not rendered.
    """

    name: str
    fast: Vec
    slow: Vec
    origin: Vec
    fpixels: int
    spixels: int
    pixel_size: float
    thickness: float = 0.0          # sensor thickness, metres (0: thin sensor)
    material: str = "Si"
    mu: Optional[float] = None      # sensor attenuation, 1/metre (None: from material at the run's wavelength)
    mask: Optional[np.ndarray] = field(default=None, repr=False)
    adu_per_eV: Optional[float] = None      # detector units per eV of photon energy (CrystFEL)
    thicksteps: Optional[int] = None        # sensor layers (None: the run's -detector_thicksteps rule)
    adu_per_photon: Optional[float] = None  # detector units per photon (CrystFEL); wins over adu_per_eV

    def __post_init__(self) -> None:
        f, s = np.array(_vec(self.fast, f"panel {self.name}: fs")), np.array(_vec(self.slow, f"panel {self.name}: ss"))
        self.origin = _vec(self.origin, f"panel {self.name}: origin")
        nf, ns = np.linalg.norm(f), np.linalg.norm(s)
        if nf == 0.0 or ns == 0.0:
            raise GeometryError(f"panel {self.name}: zero-length {'fs' if nf == 0.0 else 'ss'} vector")
        f, s = f / nf, s / ns
        if np.linalg.norm(np.cross(f, s)) < 1e-6:
            raise GeometryError(f"panel {self.name}: fs and ss vectors are parallel")
        self.fast, self.slow = tuple(float(x) for x in f), tuple(float(x) for x in s)
        if int(self.fpixels) < 1 or int(self.spixels) < 1:
            raise GeometryError(f"panel {self.name}: needs at least one pixel, got {self.fpixels} x {self.spixels}")
        self.fpixels, self.spixels = int(self.fpixels), int(self.spixels)
        if not (math.isfinite(self.pixel_size) and self.pixel_size > 0):
            raise GeometryError(f"panel {self.name}: pixel size must be positive, got {self.pixel_size}")
        if not (math.isfinite(self.thickness) and self.thickness >= 0):
            raise GeometryError(f"panel {self.name}: sensor thickness must be >= 0, got {self.thickness}")
        if self.mu is not None and not (math.isfinite(self.mu) and self.mu > 0):
            raise GeometryError(f"panel {self.name}: sensor attenuation must be positive, got {self.mu} 1/m")
        if self.thicksteps is not None:
            if int(self.thicksteps) < 1:
                raise GeometryError(f"panel {self.name}: sensor layers must be >= 1, got {self.thicksteps}")
            self.thicksteps = int(self.thicksteps)
        for name in ("adu_per_eV", "adu_per_photon"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v > 0):
                raise GeometryError(f"panel {self.name}: {name} must be positive, got {v}")
        if self.mask is not None:
            self.mask = np.asarray(self.mask)
            if self.mask.shape != (self.spixels, self.fpixels):
                raise GeometryError(f"panel {self.name}: mask shape {self.mask.shape}, panel is "
                                    f"{(self.spixels, self.fpixels)} (slow, fast)")

    @property
    def normal(self) -> Vec:
        """Unit fast x slow: the direction nanoBragg's odet takes for this panel."""
        n = np.cross(self.fast, self.slow)
        return tuple(float(x) for x in n / np.linalg.norm(n))

    def adu_gain(self, photon_energy_eV: float) -> float:
        """Detector units per photon: adu_per_photon, else adu_per_eV times the photon energy
        (CrystFEL's rule, datatemplate.c create_detgeom), else 1 (nanoBragg's images count photons)."""
        if self.adu_per_photon is not None:
            return float(self.adu_per_photon)
        if self.adu_per_eV is not None:
            return float(self.adu_per_eV) * float(photon_energy_eV)
        return 1.0

    def centre(self) -> np.ndarray:
        """The panel's centre point, metres."""
        return (np.asarray(self.origin) + 0.5 * self.pixel_size * (self.fpixels * np.asarray(self.fast)
                                                                    + self.spixels * np.asarray(self.slow)))

    def pixel_centres(self) -> np.ndarray:
        """(spixels, fpixels, 3) lab positions of the pixel centres, metres."""
        f = (np.arange(self.fpixels) + 0.5) * self.pixel_size
        s = (np.arange(self.spixels) + 0.5) * self.pixel_size
        return (np.asarray(self.origin)[None, None, :] + f[None, :, None] * np.asarray(self.fast)[None, None, :]
                + s[:, None, None] * np.asarray(self.slow)[None, None, :])


def beam_frame(beam) -> np.ndarray:
    """Rows x, y, z of the CrystFEL/assembly frame in the lab frame: z along the beam, y the lab
    +y made perpendicular to the beam (lab +z when the beam is along y), x = y cross z."""
    z = np.asarray(beam, dtype=np.float64)
    z = z / np.linalg.norm(z)
    up = np.array([0.0, 1.0, 0.0]) if abs(z[1]) < 0.9 else np.array([0.0, 0.0, 1.0])
    y = up - np.dot(up, z) * z
    y /= np.linalg.norm(y)
    return np.stack([np.cross(y, z), y, z])


@dataclass
class Detector:
    """Panels plus the beam direction they were placed for (unit, lab frame)."""

    panels: List[Panel]
    beam: Vec = (1.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        if not self.panels:
            raise GeometryError("detector has no panels")
        b = np.asarray(_vec(self.beam, "beam"))
        if np.linalg.norm(b) == 0.0:
            raise GeometryError("beam vector has zero length")
        self.beam = tuple(float(x) for x in b / np.linalg.norm(b))
        names = [p.name for p in self.panels]
        if len(set(names)) != len(names):
            raise GeometryError(f"panel names must be unique, got {names}")
        for p in self.panels:
            if float(np.dot(p.centre(), self.beam)) <= 0.0:
                raise GeometryError(f"panel {p.name}: lies behind the sample (its centre is upstream of the "
                                    "sample along the beam)")
            if abs(float(np.dot(p.origin, p.normal))) == 0.0:
                raise GeometryError(f"panel {p.name}: its plane passes through the sample")

    @property
    def shape(self) -> Tuple[int, int, int]:
        """(panels, slow, fast) of the stacked image; smaller panels are padded with zeros."""
        return (len(self.panels), max(p.spixels for p in self.panels), max(p.fpixels for p in self.panels))

    @classmethod
    def from_configs(cls, configs: Sequence[dict], beam=(1.0, 0.0, 0.0)) -> "Detector":
        """The Python API way in: a list of dicts with Panel's fields (name optional)."""
        panels = []
        for i, c in enumerate(configs):
            c = dict(c)
            c.setdefault("name", f"p{i}")
            try:
                panels.append(Panel(**c))
            except TypeError as e:
                raise GeometryError(f"panel config {i}: {e}") from None
        return cls(panels, beam)

    @classmethod
    def from_prepared(cls, prepared, name: str = "p0") -> "Detector":
        """The one-panel detector of a prepared plain nanoBragg run (any convention, pivot,
        rotation or two-theta): its resolved fdet, sdet and pix0."""
        g = prepared.geometry
        o = prepared.options
        thick = float(max(o.detector_thick, 0.0))
        mu = None if o.detector_mu <= 0 or thick == 0 else float(o.detector_mu)
        steps = int(o.detector_thicksteps) if thick > 0 and o.detector_thicksteps > 0 else None
        panel = Panel(name, g["fdet"], g["sdet"], g["pix0"], g["fpixels"], g["spixels"], g["pixel_size"],
                      thickness=thick, mu=mu, thicksteps=steps)
        return cls([panel], g["beam"])

    def frame(self) -> np.ndarray:
        """See :func:`beam_frame`."""
        return beam_frame(self.beam)

    def check_overlaps(self, what: str = "detector") -> None:
        """GeometryError when two coplanar panels cover the same area (checked on panel centres)."""
        for i, a in enumerate(self.panels):
            for b in self.panels[i + 1:]:
                if abs(abs(np.dot(a.normal, b.normal)) - 1.0) > 1e-9:
                    continue
                d = b.centre() - a.centre()
                if abs(np.dot(d, a.normal)) > 1e-9:
                    continue
                df, ds = abs(np.dot(d, a.fast)), abs(np.dot(d, a.slow))
                half_f = 0.5 * (a.fpixels * a.pixel_size + b.fpixels * b.pixel_size)
                half_s = 0.5 * (a.spixels * a.pixel_size + b.spixels * b.pixel_size)
                parallel = abs(abs(np.dot(a.fast, b.fast)) - 1.0) < 1e-9
                if parallel and df < half_f - 1e-3 * a.pixel_size and ds < half_s - 1e-3 * a.pixel_size:
                    raise GeometryError(f"{what}: panels {a.name} and {b.name} overlap")
