"""PNG previews of simulated images: log-scaled grey levels, single images or a montage.

Uses Pillow if it is importable, else matplotlib; with neither, writing raises
:class:`extras.MissingExtra` (an ImportError) naming the ``png`` extra, before any file is made.
The CLI writes one with ``-pngfile name.png``.

Examples
--------
>>> import numpy as np
>>> from nanobragg_ext.preview import to_uint8
>>> to_uint8(np.array([[0.0, 1.0], [10.0, 100.0]])).dtype
dtype('uint8')
"""
from __future__ import annotations

import math
import os
from typing import Optional, Sequence

import numpy as np

__all__ = ["to_uint8", "montage", "write_png", "write_montage"]

def to_uint8(image: np.ndarray, percentile: float = 99.9, log: bool = True) -> np.ndarray:
    """Grey levels 0..255 of an image: log(1 + I / floor) scaled so ``percentile`` maps to 255.

    Parameters
    ----------
    image : ndarray (slow, fast)
        Photons per pixel (any float or integer dtype); negative values count as 0.
    percentile : float
        Percentile of the positive pixels that becomes white (the brightest spots saturate).
    log : bool
        Log scaling (default); False scales linearly.
    """
    a = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    a = np.clip(a, 0.0, None)
    positive = a[a > 0]
    if positive.size == 0:
        return np.zeros(a.shape, dtype=np.uint8)
    top = float(np.percentile(positive, percentile))
    if top <= 0:
        top = float(positive.max())
    if log:
        floor = max(float(np.percentile(positive, 1.0)), top * 1e-6, np.finfo(np.float64).tiny)
        a = np.log1p(a / floor) / math.log1p(top / floor)
    else:
        a = a / top
    return (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def montage(images: Sequence[np.ndarray], ncols: Optional[int] = None, gap: int = 2) -> np.ndarray:
    """Tile equally shaped uint8 or float images into one array (row-major, gap pixels of black)."""
    imgs = [np.asarray(im) for im in images]
    if not imgs:
        raise ValueError("montage needs at least one image")
    h, w = imgs[0].shape
    if any(im.shape != (h, w) for im in imgs):
        raise ValueError("montage: all images must have the same shape")
    n = len(imgs)
    ncols = ncols or int(math.ceil(math.sqrt(n)))
    nrows = int(math.ceil(n / ncols))
    out = np.zeros((nrows * h + (nrows - 1) * gap, ncols * w + (ncols - 1) * gap), dtype=imgs[0].dtype)
    for i, im in enumerate(imgs):
        r, c = divmod(i, ncols)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = im
    return out


def _save_grey(path: str, grey: np.ndarray) -> None:
    """Write a uint8 image as PNG atomically, with Pillow or else matplotlib (checked first), mode
    0666 less the umask, as every output."""
    from .extras import require_extra
    from .io import create_temporary  # noqa: PLC0415

    backend = require_extra(("PIL.Image", "matplotlib"), "png", "PNG previews")
    fd, tmp = create_temporary(os.path.dirname(os.path.abspath(path)), suffix=".png")
    try:
        with os.fdopen(fd, "wb") as f:
            if backend.__name__ == "PIL.Image":
                image = backend.fromarray(grey, mode="L") if _pil_takes_mode() else backend.fromarray(grey)
                image.save(f, format="PNG")
            else:
                backend.use("Agg", force=False)
                import matplotlib.pyplot as plt  # noqa: PLC0415

                plt.imsave(f, grey, cmap="gray", vmin=0, vmax=255, format="png")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _pil_takes_mode() -> bool:
    # Pillow 11+ deprecates the mode argument of fromarray; uint8 2-D arrays are "L" anyway.
    import PIL  # noqa: PLC0415

    return int(PIL.__version__.split(".")[0]) < 11


def write_png(path: str, image: np.ndarray, percentile: float = 99.9, log: bool = True) -> None:
    """Write a log-scaled greyscale PNG preview of an image (see :func:`to_uint8`)."""
    _save_grey(path, to_uint8(image, percentile, log))


def write_montage(path: str, images: Sequence[np.ndarray], ncols: Optional[int] = None,
                  percentile: float = 99.9, log: bool = True) -> None:
    """Write several images side by side as one PNG, each scaled on its own."""
    _save_grey(path, montage([to_uint8(im, percentile, log) for im in images], ncols))
