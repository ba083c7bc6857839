"""The images nanoBragg derives from its float image: statistics, the noiseless SMV integer image,
the PGM preview and the Poisson noise image, with the C's arithmetic (BEHAVIOUR.md section 11)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from . import _core
from .options import RTD


@dataclass
class ImageStats:
    max_I: float
    max_index: int   # flat index of the (first) maximum pixel, -1 if none
    mean: float
    rms: float
    rmsd: float
    rendered: int


def roi_mask(shape: Tuple[int, int], roi: Tuple[int, int, int, int]) -> np.ndarray:
    """Boolean image of the pixels inside the inclusive ROI (xmin, xmax, ymin, ymax)."""
    s, f = shape
    ys = np.arange(s)[:, None]
    xs = np.arange(f)[None, :]
    return (xs >= roi[0]) & (xs <= roi[1]) & (ys >= roi[2]) & (ys <= roi[3])


def image_stats(image32: np.ndarray, roi: Tuple[int, int, int, int], mask: Optional[np.ndarray]) -> ImageStats:
    """max, mean, rms over rendered pixels; rmsd over every in-ROI pixel, masked ones too (Q24)."""
    in_roi = roi_mask(image32.shape, roi)
    rendered = in_roi if mask is None else in_roi & (mask != 0)
    vals = image32[rendered].astype(np.float64)
    n = vals.size
    max_I = 0.0
    max_index = -1
    if n:
        flat = np.where(rendered.ravel(), image32.ravel().astype(np.float64), -np.inf)
        k = int(np.argmax(flat))
        if flat[k] > 0.0:
            max_I, max_index = float(flat[k]), k
    total = float(vals.sum())
    sumsqr = float((vals * vals).sum())
    n1 = n if n > 0 else 1
    avg = total / n1
    n2 = n if n > 1 else 2
    rms = float(np.sqrt(sumsqr / (n2 - 1)))
    dev = image32[in_roi].astype(np.float64) - avg
    m = dev.size if dev.size > 1 else 2
    rmsd = float(np.sqrt(float((dev * dev).sum()) / (m - 1)))
    return ImageStats(max_I, max_index, avg, rms, rmsd, n)


def int_image(image32: np.ndarray, scale: float, adc: float, roi) -> np.ndarray:
    """Noiseless SMV pixels: floorf(float*scale + adc + 0.5) clipped to 0..65535; 0 outside the ROI."""
    v = image32.astype(np.float64) * scale + adc
    v = np.clip(v, 0.0, 65535.0)
    # Same as nanoBragg.c: (v + 0.5) is rounded to float before floorf (Q23).
    out = np.floor((v + 0.5).astype(np.float32)).astype(np.uint16)
    out[~roi_mask(image32.shape, roi)] = 0
    return out


def int_scale(requested: float, max_I: float) -> float:
    if requested > 0.0:
        return requested
    return 55000.0 / max_I if max_I > 0.0 else 1.0


def pgm_scale(requested: float, intfile_scale: float, rmsd: float) -> float:
    if requested > 0.0:
        return requested
    return 250.0 / (5.0 * rmsd) if rmsd > 0.0 else intfile_scale


def pgm_image(image32: np.ndarray, scale: float, roi) -> np.ndarray:
    """PGM bytes: min(255, float*scale) truncated; 0 outside the ROI (negative values clamp to 0)."""
    v = np.minimum(image32.astype(np.float64) * scale, 255.0)
    out = np.clip(v, 0.0, 255.0).astype(np.uint8)
    out[~roi_mask(image32.shape, roi)] = 0
    return out


def noise_image(image32: np.ndarray, seed: int, roi, adc: float, prepared=None):
    """Poisson noise image with the C's generator and draw order; returns (uint16, photons, overloads)."""
    return _core.noise_image(np.ascontiguousarray(image32, dtype=np.float32), seed, tuple(roi), adc, prepared)


def header_values(prepared) -> dict:
    """The SMV header fields of a prepared run (mm, Angstrom and degrees as the C prints them)."""
    g = prepared.geometry
    s = prepared.sampling
    o = prepared.options
    px = g["pixel_size"]
    return {
        "SIZE1": g["fpixels"], "SIZE2": g["spixels"], "PIXEL_SIZE": px * 1000.0,
        "DISTANCE": g["distance"] * 1000.0, "WAVELENGTH": o.lambda0 * 1e10,
        "BEAM_CENTER_X": g["Xbeam"] * 1000.0, "BEAM_CENTER_Y": g["Ybeam"] * 1000,
        "ADXV_CENTER_X": g["Fbeam"] * 1000.0, "ADXV_CENTER_Y": (g["detsize_s"] - g["Sbeam"]) * 1000,
        "MOSFLM_CENTER_X": (g["Sbeam"] - 0.5 * px) * 1000.0, "MOSFLM_CENTER_Y": (g["Fbeam"] - 0.5 * px) * 1000,
        "DENZO_X_BEAM": (g["Sbeam"] - 0.0 * px) * 1000.0, "DENZO_Y_BEAM": (g["Fbeam"] - 0.0 * px) * 1000,
        "DIALS_ORIGIN": g["dials_origin"], "XDS_ORGX": g["ORGX"], "XDS_ORGY": g["ORGY"],
        "CLOSE_DISTANCE": g["close_distance"] * 1000.0,
        "PHI": s["phi0"] * RTD, "OSC_START": s["phi0"] * RTD, "OSC_RANGE": s["osc"] * RTD,
        "TWOTHETA": g["twotheta"] * RTD,
    }
