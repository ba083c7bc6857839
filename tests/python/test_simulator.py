"""The run object behind the CLI and the API (api.Simulator over _core.Simulator): each update
gives the image of a fresh Simulator with that config, the structure-factor table exists once
(shared with NumPy, never copied), traces read the render's own tables, and the backends share
one interface (backend="cuda" without a GPU raises RuntimeError saying why)."""
import numpy as np
import pytest

from nanobragg_ext import _core, api, structure_factors
from nanobragg_ext import io as nbio
from nanobragg_ext.backends import backends, cuda_available, cuda_unavailable_reason
from nanobragg_ext.config import BeamConfig, CrystalConfig, DetectorConfig, SimulationConfig


def table():
    hkl = np.array([(h, k, l) for h in range(-7, 8) for k in range(-7, 8) for l in range(-7, 8)])  # noqa: E741
    F = 20.0 + np.abs(hkl).sum(axis=1) + 0.5 * hkl[:, 0]
    return structure_factors.from_arrays(hkl[:, 0], hkl[:, 1], hkl[:, 2], F)


def config(**crystal):
    c = dict(cell=(40, 45, 50, 88, 92, 95), n_cells=(4, 4, 4), misset_deg=(10, -5, 30),
             mosaic_spread_deg=0.4, mosaic_domains=3, mosaic_seed=11)
    c.update(crystal)
    return SimulationConfig(detector=DetectorConfig(fpixels=30, spixels=26, distance_mm=60, pixel_size_mm=0.2),
                            beam=BeamConfig(wavelength_A=1.0), crystal=CrystalConfig(**c),
                            structure_factors=TABLE, noise_seed=1)


TABLE = table()

# Each run argument, and the config that asks for the same thing from the start.
UPDATES = [
    (dict(misset_deg=(40, 5, -20)), lambda c: c.replace(crystal={"misset_deg": (40, 5, -20)})),
    (dict(phi_start_deg=3.0, osc_deg=1.0, phisteps=3),
     lambda c: c.replace(crystal={"phi_start_deg": 3.0, "osc_deg": 1.0}, sampling={"phisteps": 3})),
    (dict(mosaic_spread_deg=1.1, mosaic_seed=77), lambda c: c.replace(crystal={"mosaic_spread_deg": 1.1,
                                                                               "mosaic_seed": 77})),
    (dict(n_cells=(7, 3, 5)), lambda c: c.replace(crystal={"n_cells": (7, 3, 5)})),
    (dict(size_mm=(1e-4, 1.2e-4, 1.1e-4)), lambda c: c.replace(crystal={"size_mm": (1e-4, 1.2e-4, 1.1e-4)})),
    (dict(wavelength_A=1.4), lambda c: c.replace(beam={"wavelength_A": 1.4})),
    (dict(fluence_per_m2=3e29), lambda c: c.replace(beam={"fluence_per_m2": 3e29})),
    (dict(distance_mm=45.0), lambda c: c.replace(detector={"distance_mm": 45.0})),
    (dict(beam_center_mm=(1.5, 2.5)), lambda c: c.replace(detector={"beam_center_x_mm": 1.5, "beam_center_y_mm": 2.5})),
]


@pytest.mark.parametrize("kwargs, same_config", UPDATES, ids=[",".join(u[0]) for u in UPDATES])
def test_each_update_equals_a_fresh_simulator(kwargs, same_config):
    base = config()
    sim = api.Simulator(base)
    first = sim.run().copy()
    assert first.max() > 0
    updated = sim.run(**kwargs)
    fresh = api.Simulator(same_config(base)).run()
    np.testing.assert_array_equal(updated, fresh)
    assert not np.array_equal(updated, first)  # the update did change the image
    np.testing.assert_array_equal(sim.run(), first)  # and the config's own settings come back


def test_updates_in_sequence_equal_fresh_simulators():
    base = config()
    sim = api.Simulator(base, dtype=np.float32)
    for kwargs, same_config in UPDATES + UPDATES[::-1]:
        np.testing.assert_array_equal(sim.run(**kwargs), api.Simulator(same_config(base), dtype=np.float32).run(),
                                      err_msg=str(kwargs))


def test_structure_factor_table_exists_once():
    sim = api.Simulator(config())
    assert sim.structure_factors is TABLE  # the config's table object itself, not a copy
    view = np.asarray(sim.structure_factors)
    assert np.shares_memory(view, TABLE.values) and not view.flags.writeable
    sim.run(wavelength_A=1.2, distance_mm=50)  # a full re-derivation keeps it
    assert sim.structure_factors is TABLE


def test_table_from_arrays_equals_table_from_file(tmp_path):
    rows = [(1, 2, 3, 10.0), (-1, 0, 2, 5.5), (0, 0, 0, 100.0), (1, 2, 3, 12.0)]
    (tmp_path / "t.hkl").write_text("".join(f"{h} {k} {l} {F}\n" for h, k, l, F in rows))
    a = nbio.read_hkl(str(tmp_path / "t.hkl"), 2.0)
    h, k, l, F = zip(*rows)  # noqa: E741
    b = structure_factors.from_arrays(h, k, l, F, 2.0)
    assert a.bounds == b.bounds == (-1, 1, 0, 2, 0, 3) and a.hkls == b.hkls == 4
    np.testing.assert_array_equal(a.values, b.values)
    assert b.values[2, 2, 3] == 12.0  # a repeated index keeps its last F
    assert b.values.shape == (4, 4, 5)  # padded by one plane per axis


def test_trace_is_the_pixel_of_the_render():
    sim = api.Simulator(config())
    img = sim.run(misset_deg=(3, 4, 5))
    for f, s in ((0, 0), (11, 7), (29, 25)):
        t = sim.trace(f, s)
        assert t["pixel"] == float(np.float32(img[s, f])), (f, s)
        assert len(t["hkl"]) == 3 and t["omega"] > 0
    with pytest.raises(ValueError, match="outside the detector"):
        sim.trace(30, 0)


def test_native_update_and_options_round_trip():
    sim = api.Simulator(config())
    native = sim.native
    opt = native.options  # a copy: changing it changes nothing until update()
    before = sim.run().copy()
    opt.mosaic_seed = -5
    np.testing.assert_array_equal(sim.run(), before)
    native.update(opt)
    out = np.empty(sim.shape)
    native.render(out)
    np.testing.assert_array_equal(out, api.Simulator(config(mosaic_seed=5)).run())


def test_mask_is_checked_against_the_detector():
    sim = api.Simulator(config())
    with pytest.raises(ValueError, match="mask has 7 pixels"):
        sim.native.set_mask(np.ones(7, np.uint16))
    mask = np.ones(sim.shape, np.uint16)
    mask[3, 4] = 0
    sim.native.set_mask(mask)
    assert not sim.native.is_rendered(4, 3) and sim.native.is_rendered(5, 3)
    assert sim.run()[3, 4] == 0


def test_setup_record_is_what_the_console_prints():
    cfg = config().replace(beam={"hdivrange_mrad": 2.0, "vdivrange_mrad": 2.0, "dispersion_percent": 1.0},
                           sampling={"hdivsteps": 4, "vdivsteps": 4, "dispsteps": 3})
    p = api.Simulator(cfg).prepared
    rec = p.record
    # The elliptical trim keeps the corners out: fewer directions than the 4 x 4 grid.
    assert 0 < len(rec["divergence"]) == p.sampling["divsteps"] < 16
    assert len(rec["dispersion_lambdas"]) == 3 and len(p.source_wavelengths) == 3 * len(rec["divergence"])
    assert rec["auto_interpolation"] == 0  # N = 4: the automatic choice is off
    assert rec["auto_oversample"] and rec["reciprocal_pixel_size"] > 0


# ---- backends behind one interface ---------------------------------------------------------------


def test_backend_argument():
    with pytest.raises(ValueError, match="backend must be"):
        api.Simulator(config(), backend="tpu")
    assert api.Simulator(config(), backend="auto").backend in backends()
    np.testing.assert_array_equal(api.simulate(config(), backend="cpu"), api.Simulator(config()).run())


@pytest.mark.skipif(cuda_available(), reason="a CUDA device is usable here")
def test_cuda_backend_without_a_gpu_says_why():
    reason = cuda_unavailable_reason()
    with pytest.raises(RuntimeError, match="CUDA backend not available") as e:
        api.Simulator(config(), backend="cuda")
    assert reason in str(e.value)
    with pytest.raises(RuntimeError, match="CUDA backend not available"):
        api.device_simulator(api.Simulator(config()).native)
    assert api.Simulator(config(), backend="auto").backend == "cpu"


def test_both_backends_return_the_same_statistics_keys():
    sim = api.Simulator(config())
    out = np.empty(sim.shape)
    stats = api.render(sim.native, out)
    assert set(stats) == {"omega_sum", "rendered", "interpolation_switched_off", "cancelled", "switch_hkl"}
    assert stats["rendered"] == out.size and stats["cancelled"] is False
    image, stats32 = sim.native.render_image32()
    assert set(stats32) == set(stats)
    np.testing.assert_array_equal(np.asarray(image), out.astype(np.float32))


def test_cancelled_render_reports_it():
    sim = api.Simulator(config())
    controls = _core.RenderControls()
    controls.cancel()
    image, stats = sim.native.render_image32("double", 1, False, controls)
    assert stats["cancelled"] and not np.asarray(image).any()  # no uninitialised pixels handed out


def test_table_pickles_for_worker_processes():
    import pickle

    copy = pickle.loads(pickle.dumps(TABLE))  # what a Dask worker receives with its job
    assert copy is not TABLE and copy.bounds == TABLE.bounds and copy.hkls == TABLE.hkls
    np.testing.assert_array_equal(copy.values, TABLE.values)
    np.testing.assert_array_equal(api.simulate(config().replace(structure_factors=copy)), api.simulate(config()))


def test_single_precision_updates_equal_fresh_simulators():
    base = config().replace(precision="single")
    sim = api.Simulator(base, dtype=np.float32)
    for kwargs, same_config in UPDATES[:3] + UPDATES[5:6]:
        np.testing.assert_array_equal(sim.run(**kwargs), api.Simulator(same_config(base), dtype=np.float32).run(),
                                      err_msg=str(kwargs))
