"""Series of frames: which spindle range, crystal and seeds frame i of a dataset has.

A series (:class:`RotationSweep` or :class:`StillSeries`) turns a frame index into a
:class:`FrameSpec` that depends only on the series, the base run and the index, so frame i is the
same image whatever the number of workers or the order frames finish in. Per-frame random draws
come from ``numpy.random.SeedSequence(seed, spawn_key=(i,))``, which is
``SeedSequence(seed).spawn(n)[i]``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple, Union

import numpy as np

__all__ = ["FrameSpec", "RotationSweep", "StillSeries", "Series", "random_rotation"]

SEED_MAX = 2**31 - 1  # nanoBragg seeds are C longs fed to ran1(); keep them positive 31-bit


@dataclass(frozen=True)
class FrameSpec:
    """Everything that makes frame ``index`` differ from the base config.

    Parameters
    ----------
    index : int
        Frame number, 0-based.
    phi_start_deg : float
        Spindle angle at the start of the exposure, degrees.
    osc_deg : float or None
        Oscillation range, degrees (None: a still, as the config's ``osc_deg``).
    orientation : 3x3 tuple or None
        Real-space axes a, b, c (rows, Angstrom, nanoBragg lab frame at phi = 0, before mosaic);
        None keeps the config's orientation (cell + misset or matrix).
    n_cells : (Na, Nb, Nc) or None
        Crystal size in unit cells; None keeps the config's.
    size_mm : (x, y, z) or None
        Crystal size, mm (only when the config gives one); None keeps the config's.
    mosaic_seed : int
        Seed of the mosaic domain draws.
    noise_seed : int
        ``-seed`` of this frame's Poisson noise (and of the detector stage's draws).
    sase_seed : int or None
        ``-sase_seed`` of this frame's SASE-like spectrum (the config's seed + index), None
        without one.
    """

    index: int
    phi_start_deg: float
    osc_deg: Optional[float]
    orientation: Optional[Tuple[Tuple[float, float, float], ...]]
    n_cells: Optional[Tuple[int, int, int]]
    size_mm: Optional[Tuple[float, float, float]]
    mosaic_seed: int
    noise_seed: int
    sase_seed: Optional[int] = None


def _frame_rng(seed: int, index: int) -> np.random.Generator:
    """Frame index's own generator: SeedSequence(seed).spawn(n)[index], without spawning n."""
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(index),)))


def random_rotation(u: Sequence[float]) -> np.ndarray:
    """Uniformly distributed rotation matrix from three uniform numbers in [0, 1) (Shoemake 1992)."""
    u1, u2, u3 = (float(x) for x in u)
    a, b = math.sqrt(1.0 - u1), math.sqrt(u1)
    w, x, y, z = a * math.sin(2 * math.pi * u2), a * math.cos(2 * math.pi * u2), \
        b * math.sin(2 * math.pi * u3), b * math.cos(2 * math.pi * u3)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


@dataclass(frozen=True)
class RotationSweep:
    """A rotation series: frame i covers [start + i*width, start + (i+1)*width) about the spindle.

    Parameters
    ----------
    start_deg : float
        Spindle angle at the start of frame 0, degrees.
    width_deg : float
        Oscillation per frame, degrees (> 0).
    frames : int
        Number of frames.
    seed : int
        Dataset seed; only the per-frame noise seeds derive from it (the crystal, including its
        mosaic domains, is the config's for every frame).
    """

    start_deg: float
    width_deg: float
    frames: int
    seed: int = 0

    def __post_init__(self):
        if not (math.isfinite(self.start_deg) and math.isfinite(self.width_deg) and self.width_deg > 0):
            raise ValueError(f"RotationSweep: start must be finite and width > 0, got {self.start_deg}, {self.width_deg}")
        if isinstance(self.frames, bool) or int(self.frames) != self.frames or self.frames < 1:
            raise ValueError(f"RotationSweep.frames must be an integer >= 1, got {self.frames!r}")

    def __len__(self) -> int:
        return int(self.frames)

    def describe(self) -> dict:
        return {"kind": "sweep", "start_deg": float(self.start_deg), "width_deg": float(self.width_deg),
                "frames": int(self.frames), "seed": int(self.seed)}

    def frame(self, index: int, base) -> FrameSpec:
        """Frame index of this sweep over base (a Dataset: its config and base crystal axes)."""
        rng = _frame_rng(self.seed, index)
        noise_seed = int(rng.integers(1, SEED_MAX))
        return FrameSpec(index, float(self.start_deg) + index * float(self.width_deg), float(self.width_deg),
                         None, None, None, int(base.config.crystal.mosaic_seed), noise_seed)


@dataclass(frozen=True)
class StillSeries:
    """Stills of randomly oriented crystals: a different crystal (orientation, mosaic draw, and
    optionally cell and size) per frame, all drawn from ``seed``.

    Parameters
    ----------
    count : int
        Number of frames.
    seed : int
        Dataset seed; frame i's draws use ``SeedSequence(seed).spawn(count)[i]``.
    jitter_cell_percent : float
        Standard deviation of the per-frame scale of each cell edge a, b, c, percent (angles kept).
    jitter_size_percent : float
        Standard deviation of the per-frame scale of the crystal size along each axis, percent;
        Na, Nb, Nc are rounded to whole cells (at least 1), a size in mm scales continuously.
    """

    count: int
    seed: int
    jitter_cell_percent: float = 0.0
    jitter_size_percent: float = 0.0

    def __post_init__(self):
        if isinstance(self.count, bool) or int(self.count) != self.count or self.count < 1:
            raise ValueError(f"StillSeries.count must be an integer >= 1, got {self.count!r}")
        for n in ("jitter_cell_percent", "jitter_size_percent"):
            v = getattr(self, n)
            if not (math.isfinite(v) and 0 <= v < 100):
                raise ValueError(f"StillSeries.{n} must be in [0, 100), got {v!r}")

    def __len__(self) -> int:
        return int(self.count)

    def describe(self) -> dict:
        return {"kind": "stills", "count": int(self.count), "seed": int(self.seed),
                "jitter_cell_percent": float(self.jitter_cell_percent),
                "jitter_size_percent": float(self.jitter_size_percent)}

    def frame(self, index: int, base) -> FrameSpec:
        """Frame index of this series over base (a Dataset: its config and base crystal axes)."""
        rng = _frame_rng(self.seed, index)
        # Always draw everything in this order, so turning a jitter on leaves orientations unchanged.
        rot = random_rotation(rng.random(3))
        g_cell = rng.standard_normal(3)
        g_size = rng.standard_normal(3)
        mosaic_seed = int(rng.integers(1, SEED_MAX))
        noise_seed = int(rng.integers(1, SEED_MAX))
        # A factor near 0 would make a degenerate crystal; 5% of nominal is far beyond any sane jitter.
        f_cell = np.maximum(1.0 + g_cell * self.jitter_cell_percent / 100.0, 0.05)
        f_size = np.maximum(1.0 + g_size * self.jitter_size_percent / 100.0, 0.05)
        axes = base.axes_A * f_cell[:, None] if self.jitter_cell_percent else base.axes_A
        axes = axes @ rot.T
        n_cells = size = None
        if self.jitter_size_percent:
            n_cells = tuple(max(1, int(round(n * f))) for n, f in zip(base.config.crystal.n_cells, f_size))
            if any(base.config.crystal.size_mm):
                size = tuple(float(s * f) for s, f in zip(base.config.crystal.size_mm, f_size))
        c = base.config.crystal
        return FrameSpec(index, float(c.phi_start_deg), c.osc_deg, tuple(tuple(float(x) for x in r) for r in axes),
                         n_cells, size, mosaic_seed, noise_seed)


Series = Union[RotationSweep, StillSeries]
