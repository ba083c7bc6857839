"""The miniCBF header (Pilatus style) of one frame of a one-panel detector, as dxtbx reads it.

``_array_data.header_convention "GENERIC_MINI"`` is the convention dxtbx's FormatCBFMini keeps
for simulated pixel-array data of any size: it builds its simple detector from Pixel_size,
Detector_distance, Beam_xy (pixels from the outer corner of pixel (0, 0): the direct-beam spot),
the sensor line and Count_cutoff, the beam from Wavelength and Flux, the scan from Start_angle,
Angle_increment and Exposure_period (its PILATUS conventions would add a Pilatus module-gap mask).
The header can only describe a detector perpendicular to the beam with the spindle along fast
(``Setup.simple_detector_problem``).
"""
from __future__ import annotations

from .setup import Setup

HEADER_CONVENTION = "GENERIC_MINI"


def cbf_header(setup: Setup, phi_start_deg: float, osc_deg: float, count_cutoff: float) -> str:
    """The ``_array_data.header_contents`` text (CRLF lines) of one frame.

    count_cutoff: the highest valid pixel value (dxtbx's upper trusted value).
    """
    p = setup.detector.panels[0]
    px = p.pixel_size
    bf, bs = setup.beam_spot(0)
    lines = ["# Detector: nanobragg-ext simulation",
             f"# Pixel_size {px:.9g} m x {px:.9g} m"]
    if p.thickness > 0 and p.material in ("Si", "CdTe"):
        lines.append(f"# {'Silicon' if p.material == 'Si' else 'CdTe'} sensor, thickness {p.thickness:.9g} m")
    lines += [f"# Exposure_time {setup.exposure_s:.9g} s",
              f"# Exposure_period {setup.exposure_s:.9g} s",
              f"# Count_cutoff {int(count_cutoff)} counts",
              f"# Wavelength {setup.wavelength_A:.9g} A",
              f"# Flux {setup.flux:.9g}",
              f"# Polarization {(1.0 + setup.kahn) / 2.0:.6g}",
              f"# Detector_distance {setup.beam_distance(0):.12g} m",
              f"# Beam_xy ({bf / px:.6f}, {bs / px:.6f}) pixels",
              f"# Start_angle {phi_start_deg:.6f} deg.",
              f"# Angle_increment {osc_deg:.6f} deg.",
              f"# Phi {phi_start_deg:.6f} deg.",
              "# Oscillation_axis spindle along fast"]
    return "\r\n".join(lines)


def write_cbf(path: str, frame, setup: Setup, phi_start_deg: float, osc_deg: float, count_cutoff: float) -> None:
    """One frame (integers; floats are rounded to whole photons) as a miniCBF through fabio, atomically."""
    import fabio.cbfimage
    import numpy as np

    from .staged import Staged

    data = frame if frame.dtype.kind in "iu" else np.rint(frame)
    img = fabio.cbfimage.CbfImage(data=np.ascontiguousarray(data, dtype=np.int32))
    img.header["_array_data.header_convention"] = HEADER_CONVENTION
    img.header["_array_data.header_contents"] = cbf_header(setup, phi_start_deg, osc_deg, count_cutoff)
    staged = Staged(path, ".cbf")
    try:
        img.write(staged.tmp)
        staged.commit()
    except BaseException:
        staged.discard()
        raise
