"""One frame of a dataset as a Pilatus-style miniCBF (through fabio), beside the NXmx file."""
from __future__ import annotations

import os

import numpy as np

__all__ = ["require_fabio", "write_cbf"]


def require_fabio() -> None:
    """extras.MissingExtra naming the extra to install unless fabio imports."""
    from ..extras import require_extra

    require_extra("fabio.cbfimage", "dataset", "--cbf")


def write_cbf(path: str, frame: np.ndarray, ds, index: int) -> None:
    """Frame index of ds as a miniCBF (int32; float photons are rounded to whole photons), atomically."""
    import fabio.cbfimage

    g = ds.prepared.geometry
    px = float(g["pixel_size"])
    spec = ds.frame(index)
    header = "\r\n".join([
        "# Detector: nanobragg-ext simulation",
        f"# Pixel_size {px:g} m x {px:g} m",
        f"# Exposure_time {ds.config.beam.exposure_s:g} s",
        f"# Wavelength {ds.config.beam.wavelength_A:.6f} A",
        f"# Detector_distance {float(g['distance']):.6f} m",
        f"# Beam_xy ({float(g['Fbeam']) / px:.2f}, {float(g['Sbeam']) / px:.2f}) pixels",
        f"# Start_angle {spec.phi_start_deg:.4f} deg.",
        f"# Angle_increment {spec.osc_deg or 0.0:.4f} deg.",
        f"# Phi {spec.phi_start_deg:.4f} deg.",
    ])
    data = frame if frame.dtype.kind in "iu" else np.rint(frame)
    img = fabio.cbfimage.CbfImage(data=np.ascontiguousarray(data, dtype=np.int32))
    img.header["_array_data.header_convention"] = "PILATUS_1.2"
    img.header["_array_data.header_contents"] = header
    tmp = path + ".part"
    img.write(tmp)
    os.replace(tmp, path)
