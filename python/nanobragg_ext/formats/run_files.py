"""The files a command-line run writes beside nanoBragg's (-nexus, -crystfel), staged so that they
are put in place together with the float/int/noise images (pipeline.write_outputs) or not at all."""
from __future__ import annotations

from typing import List, Optional

import numpy as np

from .setup import Setup, run_spectrum


def run_masks(req, prepared, detector) -> Optional[list]:
    """Per panel, the pixels the run did not render (0): -mask zeros and outside -roi (one panel)."""
    if len(detector.panels) != 1:
        return None  # a multi-panel run's masks are the panels' own
    from ..outputs import roi_mask

    g = prepared.geometry
    shape = (g["spixels"], g["fpixels"])
    mask = roi_mask(shape, g["roi"]).astype(np.uint16)
    if req.mask_image is not None:
        mask &= (np.frombuffer(req.mask_image.pixels, dtype=np.uint16).reshape(shape) != 0)
    return [mask]


def stage_run_files(image, prepared, req, detector=None) -> List:
    """Write -nexus and -crystfel files of a rendered run under temporary names (nothing when the
    request has neither); returns the :class:`staged.Staged` files to commit.

    image: the float image (slow, fast) or, with detector, its (panels, slow, fast) stack.
    """
    if not (req.nexusfile or req.crystfel_file):
        return []
    from ..options import RTD
    from .staged import discard_all

    setup = Setup.of_run(prepared, detector)
    spectrum = run_spectrum(prepared)
    image = np.asarray(image, dtype=np.float32)
    masks = run_masks(req, prepared, setup.detector)
    staged: List = []
    try:
        if req.nexusfile:
            from .nxmx import stage_nexus

            s = prepared.sampling
            staged.append(stage_nexus(req.nexusfile, setup, image, phi_start_deg=[s["phi0"] * RTD],
                                      osc_deg=[s["osc"] * RTD], saturation=float(np.finfo(np.float32).max),
                                      masks=masks, units="photons",
                                      **({} if spectrum is None else {"wavelengths_A": [spectrum[0]],
                                                                     "weights": [spectrum[1]]})))
        if req.crystfel_file:
            from .crystfel_h5 import stage_crystfel

            staged += stage_crystfel(req.crystfel_file, setup, image, masks)
    except BaseException:
        discard_all(staged)
        raise
    return staged
