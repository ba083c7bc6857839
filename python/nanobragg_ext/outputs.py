"""The images nanoBragg derives from its float image, for NumPy users: statistics, the noiseless
SMV integer image, the PGM preview and the Poisson noise image. Thin wrappers over the native
implementations the command line uses (cpp/src/io/images.cpp), so both give the same bytes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from . import _core
from .pipeline import header_values  # noqa: F401 (re-exported: the SMV header fields of a run)


@dataclass
class ImageStats:
    max_I: float
    max_index: int   # flat index of the (first) maximum pixel, -1 if none
    mean: float
    rms: float
    rmsd: float
    rendered: int


def _f32(image) -> np.ndarray:
    return np.ascontiguousarray(image, dtype=np.float32)


def roi_mask(shape: Tuple[int, int], roi: Tuple[int, int, int, int]) -> np.ndarray:
    """Boolean image of the pixels inside the inclusive ROI (xmin, xmax, ymin, ymax)."""
    s, f = shape
    ys = np.arange(s)[:, None]
    xs = np.arange(f)[None, :]
    return (xs >= roi[0]) & (xs <= roi[1]) & (ys >= roi[2]) & (ys <= roi[3])


def image_stats(image32, roi, mask: Optional[np.ndarray]) -> ImageStats:
    """max, mean, rms over rendered pixels; rmsd over every in-ROI pixel, masked ones too (Q24)."""
    m = None if mask is None else np.ascontiguousarray(mask, dtype=np.uint16)
    return ImageStats(**_core.image_stats(_f32(image32), tuple(roi), m))


def int_image(image32, scale: float, adc: float, roi) -> np.ndarray:
    """Noiseless SMV pixels: floorf(float*scale + adc + 0.5) clipped to 0..65535; 0 outside the ROI."""
    return _core.int_image(_f32(image32), tuple(roi), scale, adc)


def int_scale(requested: float, max_I: float) -> float:
    return _core.int_scale(requested, max_I)


def pgm_scale(requested: float, intfile_scale: float, rmsd: float) -> float:
    return _core.pgm_scale(requested, intfile_scale, rmsd)


def pgm_image(image32, scale: float, roi) -> np.ndarray:
    """PGM bytes: min(255, float*scale) truncated; 0 outside the ROI (negative values clip to 0)."""
    return _core.pgm_image(_f32(image32), tuple(roi), scale)


def noise_image(image32, seed: int, roi, adc: float, prepared=None):
    """Poisson noise image with the C's generator and draw order; returns (uint16, photons, overloads)."""
    return _core.noise_image(_f32(image32), seed, tuple(roi), adc, prepared)
