"""One frame of a dataset as a miniCBF (through fabio) beside the NXmx file; the header is
formats/minicbf.py's full geometry (one-panel detectors that header can describe)."""
from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["require_fabio", "check_cbf", "write_cbf"]


def require_fabio() -> None:
    """extras.MissingExtra naming the extra to install unless fabio imports."""
    from ..extras import require_extra

    require_extra("fabio.cbfimage", "dataset", "--cbf")


def check_cbf(ds) -> None:
    """ValueError when the miniCBF header cannot describe the dataset's detector (before any file)."""
    problem = ds.setup.simple_detector_problem()
    if problem:
        raise ValueError(f"--cbf: a miniCBF header describes one simple detector to dxtbx, but {problem}; "
                         "the NXmx file holds the full geometry")


def write_cbf(path: str, frame: np.ndarray, ds, index: int) -> None:
    """Frame index of ds as a miniCBF (int32; float photons are rounded to whole photons), atomically."""
    from ..formats.minicbf import write_cbf as write_minicbf
    from .nexus import saturation_of

    spec = ds.frame(index)
    cutoff = saturation_of(ds.dtype) if ds.dtype.kind != "f" else np.iinfo(np.int32).max - 1
    setup = ds.setup
    if ds.spectrum_lines:  # the header gives the frame's own spectrum's weighted mean wavelength
        setup = dataclasses.replace(setup, wavelength_A=ds.frame_spectrum(index).mean_wavelength_A)
    write_minicbf(path, frame, setup, spec.phi_start_deg, spec.osc_deg or 0.0, cutoff)
