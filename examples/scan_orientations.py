"""Scan a crystal through 10 orientations with one prepared Simulator and write a PNG montage.

    python examples/scan_orientations.py [montage.png]

after ``pip install .`` (or the developer install of README.md). Needs Pillow or matplotlib for
the PNG: pip install 'nanobragg-ext[png]'.
"""
import sys

import numpy as np

from nanobragg_ext import api, preview
from nanobragg_ext.config import BeamConfig, CrystalConfig, DetectorConfig, SimulationConfig
from nanobragg_ext.extras import MissingExtra, require_extra


def rotation_z(deg):
    t = np.radians(deg)
    return np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])


def main(path="scan_orientations.png"):
    require_extra(("PIL", "matplotlib"), "png", "scan_orientations.py")  # before rendering
    cfg = SimulationConfig(
        detector=DetectorConfig(fpixels=128, spixels=128, pixel_size_mm=0.4, distance_mm=80),
        beam=BeamConfig(wavelength_A=1.0),
        crystal=CrystalConfig(cell=(60, 60, 80, 90, 90, 120), n_cells=(5, 5, 5), default_F=100,
                              misset_deg=(10, 20, 0)))
    sim = api.Simulator(cfg)                      # structure factors, detector, sources: once
    c = sim.prepared.crystal
    axes = np.array([c["a"], c["b"], c["c"]]) * 1e10   # real-space a, b, c (rows), Angstrom
    # ten orientations: the crystal turned about the lab z axis in 3-degree steps
    orientations = np.stack([axes @ rotation_z(3.0 * i).T for i in range(10)])
    images = sim.run_batch(orientations)          # (10, 128, 128), re-using the prepared run
    preview.write_montage(path, list(images), ncols=5)
    print(f"wrote {path}: {len(images)} orientations, max {images.max():.3g} photons/pixel")


if __name__ == "__main__":
    try:
        main(*sys.argv[1:2])
    except MissingExtra as e:
        print(f"scan_orientations.py: error: {e}", file=sys.stderr)
        sys.exit(2)
