"""``-smv_header dials``: SMV headers (int and noise images) that dxtbx, hence DIALS, reads right.

dxtbx opens nanoBragg's SMV images with FormatSMVJHSim (chosen by ``BEAMLINE=fake``). It takes
BEAM_CENTER_X/Y as ADXV's beam centre and turns it into its own (fast, slow) millimetres as
(BEAM_CENTER_X + pixel, SIZE2 * pixel - BEAM_CENTER_Y + pixel); nanoBragg writes its MOSFLM-style
Xbeam/Ybeam there, so dxtbx puts the beam elsewhere. It also subtracts ADC_OFFSET, 1 when the
header has none, where nanoBragg adds -adc (40 by default). The dials header keeps every other
key and byte of the C's header and writes BEAM_CENTER_X/Y so that dxtbx lands on the simulated
direct-beam spot (Fbeam, Sbeam), plus ADC_OFFSET. The default (nanobragg) stays the C's bytes.
"""
from __future__ import annotations

HEADER_CONVENTIONS = ("nanobragg", "dials")


def check_dials_geometry(prepared) -> None:
    """OptionError unless the detector of a prepared run is one the header can describe to dxtbx
    (``Setup.simple_detector_problem``: perpendicular to the beam, the spindle along fast)."""
    from ..options import OptionError
    from .setup import Setup

    problem = Setup.of_run(prepared).simple_detector_problem()
    if problem:
        raise OptionError(f"option -smv_header dials: dxtbx reads an SMV image as one simple detector, but {problem} "
                          "(use -nexus)")


def dials_values(values: dict, prepared, adc: float) -> dict:
    """The header values of a run (``pipeline.header_values``) with dxtbx's beam centre and ADC_OFFSET
    (OptionError for a detector the header cannot describe, see :func:`check_dials_geometry`)."""
    g = prepared.geometry
    check_dials_geometry(prepared)
    px_mm = g["pixel_size"] * 1000.0
    out = dict(values)
    out["BEAM_CENTER_X"] = g["Fbeam"] * 1000.0 - px_mm
    out["BEAM_CENTER_Y"] = g["spixels"] * px_mm - g["Sbeam"] * 1000.0 + px_mm
    out["ADC_OFFSET"] = float(adc)
    return out
