"""What an image file records about the experiment besides its pixels, taken from the run in use.

One :class:`Setup` feeds every writer (NXmx, CrystFEL, miniCBF), so the files of one run agree.
Vectors are in the run's lab frame (the frame of its convention); :meth:`Setup.mcstas` turns them
into the NeXus McStas frame (z along the beam, y up, x = y cross z), the frame CrystFEL's
geometry uses too (``Detector.frame``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from ..detector.panels import Detector

Vec = Tuple[float, float, float]


@dataclass(frozen=True)
class Setup:
    """detector: the panels in use; wavelength_A: the central wavelength (-lambda, or a spectrum's
    weighted mean wavelength: pipeline.header_wavelength_m); polar: the beam's E-vector
    (lab); kahn: nanoBragg's polarization factor (-polar; 0 unpolarized); spindle: the rotation
    axis (lab); exposure_s: -exposure; flux: photons/s (0 when a fluence was given)."""

    detector: Detector
    wavelength_A: float
    polar: Vec
    kahn: float
    spindle: Vec
    exposure_s: float
    flux: float

    @classmethod
    def of_run(cls, prepared, detector: Optional[Detector] = None) -> "Setup":
        """The setup of a prepared run (``_core.Prepared``); detector None: its one panel."""
        from ..pipeline import header_wavelength_m

        g, o = prepared.geometry, prepared.options
        det = Detector.from_prepared(prepared) if detector is None else detector
        return cls(det, float(header_wavelength_m(prepared)) * 1e10, tuple(g["polar"]), float(o.polarization),
                   tuple(g["spindle"]), float(o.exposure), float(prepared.flux))

    @property
    def mcstas(self) -> np.ndarray:
        """Rows: the McStas x, y, z axes in the lab frame (``M @ v`` takes a lab vector to McStas)."""
        return self.detector.frame()

    @property
    def photon_energy_eV(self) -> float:
        return HC_EV_A / self.wavelength_A

    def polarisation_stokes(self) -> np.ndarray:
        """Normalised Stokes vector (1, S1, S2, 0) in the McStas frame: linear polarisation of degree
        |kahn| with the E-vector at angle psi from McStas x (S1 = K cos 2psi, S2 = K sin 2psi)."""
        e = self.mcstas @ np.asarray(self.polar, dtype=np.float64)
        psi = np.arctan2(e[1], e[0])
        return np.array([1.0, self.kahn * np.cos(2 * psi), self.kahn * np.sin(2 * psi), 0.0])

    def beam_spot(self, panel_index: int = 0) -> Tuple[float, float]:
        """(fast, slow) metres from the outer corner of pixel (0, 0) to where the direct beam meets
        the plane of panel panel_index (the beam centre dxtbx's get_beam_centre reports)."""
        p = self.detector.panels[panel_index]
        beam = np.asarray(self.detector.beam)
        t = self._beam_hit(panel_index)
        r = t * beam - np.asarray(p.origin)
        return float(np.dot(r, p.fast)), float(np.dot(r, p.slow))

    def beam_distance(self, panel_index: int = 0) -> float:
        """Metres from the sample to where the direct beam meets the plane of the panel."""
        return self._beam_hit(panel_index)

    def simple_detector_problem(self) -> Optional[str]:
        """Why the setup is not what a plain-header format (SMV, miniCBF) describes to dxtbx, or
        None: dxtbx builds one panel perpendicular to the beam with fast x slow along the beam and
        the spindle along +fast (its "simple" detector and single-axis goniometer)."""
        det = self.detector
        if len(det.panels) != 1:
            return f"the detector has {len(det.panels)} panels; the header holds one"
        p = det.panels[0]
        beam = np.asarray(det.beam)
        if abs(float(np.dot(p.normal, beam)) - 1.0) > 1e-9:
            return "the detector is not perpendicular to the beam with fast x slow along it (tilted or mirrored)"
        axis = np.asarray(self.spindle, dtype=np.float64)
        if abs(float(np.dot(axis / np.linalg.norm(axis), p.fast)) - 1.0) > 1e-9:
            return "the spindle does not lie along the fast axis"
        return None

    def _beam_hit(self, panel_index: int) -> float:
        p = self.detector.panels[panel_index]
        n = np.asarray(p.normal)
        along = float(np.dot(self.detector.beam, n))
        return float(np.dot(p.origin, n)) / along if abs(along) > 1e-12 else float("nan")


def run_spectrum(prepared):
    """(wavelengths in A, weights summing to 1) of a run's spectrum (its lines, as the NXmx
    incident_wavelength and incident_wavelength_weights), None without one."""
    if not prepared.record["spectrum_mean_lambda"] > 0:
        return None
    lines = prepared.record["dispersion_lambdas"]
    weights = np.asarray(prepared.source_weights[:len(lines)], dtype=np.float64)  # the first direction's
    return np.asarray(lines, dtype=np.float64) * 1e10, weights / weights.sum()


HC_EV_A = 12398.419843320026  # h c in eV Angstrom (CODATA 2018), as detector/cli.py uses
