"""Multi-panel detectors: the panel model, CrystFEL .geom and DIALS .expt files, maker presets,
and per-panel rendering. See docs/detectors.md for the frames and conventions."""
from .panels import Detector, GeometryError, Panel

__all__ = ["Detector", "GeometryError", "Panel"]
