"""api.write_smv: the header's PHI / OSC_START / OSC_RANGE describe the image written (its own
run, or values given explicitly), not whatever the Simulator rendered last."""
import re

import numpy as np
import pytest

from nanobragg_ext import api
from nanobragg_ext import io as nbio
from nanobragg_ext.config import CrystalConfig, DetectorConfig, SimulationConfig


def config():
    return SimulationConfig(detector=DetectorConfig(fpixels=16, spixels=12, distance_mm=50, pixel_size_mm=0.2),
                            crystal=CrystalConfig(cell=(48, 52, 56, 88, 93, 97), default_F=100, n_cells=(3, 3, 3),
                                                  phi_start_deg=1.0, osc_deg=0.25),
                            noise_seed=1)


def rotation(path):
    """(PHI, OSC_START, OSC_RANGE) of an SMV header."""
    header = nbio.read_smv(str(path)).header
    return tuple(float(re.search(rf"\n{k}=([^;]*);", header).group(1)) for k in ("PHI", "OSC_START", "OSC_RANGE"))


def test_each_image_keeps_its_own_phi(tmp_path):
    sim = api.Simulator(config())
    a = sim.run(phi_start_deg=10, osc_deg=0.5)
    b = sim.run(phi_start_deg=20, osc_deg=2)
    noisy_a = sim.add_noise(a)
    c = sim.run()                                    # the config's rotation again, rendered last
    for name, image, expected in (("a", a, (10, 10, 0.5)), ("b", b, (20, 20, 2)),
                                  ("noisy_a", noisy_a, (10, 10, 0.5)), ("c", c, (1, 1, 0.25))):
        api.write_smv(str(tmp_path / f"{name}.img"), image, sim)
        assert rotation(tmp_path / f"{name}.img") == pytest.approx(expected), name
    np.testing.assert_array_equal(nbio.read_smv(str(tmp_path / "noisy_a.img")).data, noisy_a)


def test_views_and_batches_find_their_run(tmp_path):
    sim = api.Simulator(config())
    batch = sim.run_batch(np.stack([np.eye(3) * 50, np.eye(3) * 51]), phi_start_deg=30, osc_deg=1)
    sim.run(phi_start_deg=5)
    api.write_smv(str(tmp_path / "b1.img"), batch[1], sim)     # a view of the batch
    assert rotation(tmp_path / "b1.img") == pytest.approx((30, 30, 1))


def test_unknown_image_takes_the_config_or_explicit_values(tmp_path):
    sim = api.Simulator(config())
    a = sim.run(phi_start_deg=10, osc_deg=0.5)
    api.write_smv(str(tmp_path / "derived.img"), a * 2, sim)    # not an image run() returned
    assert rotation(tmp_path / "derived.img") == pytest.approx((1, 1, 0.25))
    api.write_smv(str(tmp_path / "given.img"), a * 2, sim, phi_start_deg=10, osc_deg=0.5)
    assert rotation(tmp_path / "given.img") == pytest.approx((10, 10, 0.5))
    api.write_smv(str(tmp_path / "nosim.img"), a, phi_start_deg=7, osc_deg=3)
    assert rotation(tmp_path / "nosim.img") == pytest.approx((7, 7, 3))


def test_a_reused_out_array_describes_its_latest_run(tmp_path):
    sim = api.Simulator(config())
    out = np.empty(sim.shape, np.float32)
    sim.run(out, phi_start_deg=10)
    sim.run(out, phi_start_deg=40)
    api.write_smv(str(tmp_path / "o.img"), out, sim)
    assert rotation(tmp_path / "o.img")[0] == pytest.approx(40)
