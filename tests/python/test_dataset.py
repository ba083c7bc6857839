"""Datasets at scale: a sweep on a 2-worker Dask cluster equals the serial frames bit for bit, the
NXmx file holds the right values, CBF frames read back through fabio, an interrupted run resumes
to the same file, and still series are reproducible across runs and worker counts."""
import json
import os

import numpy as np
import pytest

for _mod in ("dask", "distributed", "h5py", "hdf5plugin"):
    pytest.importorskip(_mod, reason=f"{_mod} is not installed (pip install -e '.[test]')")

import h5py  # noqa: E402
import hdf5plugin  # noqa: E402,F401  (registers the bitshuffle filter for reading)
from distributed import Client, LocalCluster  # noqa: E402

from nanobragg_ext import api  # noqa: E402
from nanobragg_ext.config import SimulationConfig  # noqa: E402
from nanobragg_ext.dataset import Dataset, RotationSweep, StillSeries, main  # noqa: E402

# Tiny but not trivial: mosaic domains, a misset and a coarse pixel so spots cover several pixels.
FLAGS = ("-cell 60 60 60 90 90 90 -default_F 10 -N 3 -detpixels 32 -pixel 0.4 -distance 90 -lambda 1.2 "
         "-mosaic 0.5 -mosaic_domains 3 -misset 10 20 30").split()
BITSHUFFLE = 32008  # HDF5 filter id registered by hdf5plugin


@pytest.fixture(scope="module")
def cfg():
    return SimulationConfig.from_cli_args(FLAGS)


@pytest.fixture(scope="module")
def sweep(cfg, client, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("sweep") / "sweep.h5")
    ds = Dataset(cfg, RotationSweep(start_deg=5.0, width_deg=0.5, frames=20, seed=3))
    stats = ds.write(path, client=client)
    return ds, path, stats


def frames(path):
    with h5py.File(path, "r") as f:
        return f["entry/instrument/detector/data"][()]


def test_sweep_on_two_workers_equals_serial_frames_bit_for_bit(cfg, sweep):
    ds, path, stats = sweep
    assert stats["written"] == 20 and stats["skipped"] == 0 and stats["workers"] == 2
    data = frames(path)
    assert data.shape == (20, 32, 32) and data.dtype == np.float32
    for i in range(20):
        # Each frame from scratch through the public API: a fresh prepare, no Simulator reuse.
        ref = api.simulate(cfg.replace(crystal={"phi_start_deg": 5.0 + 0.5 * i, "osc_deg": 0.5}))
        np.testing.assert_array_equal(data[i], ref.astype(np.float32), err_msg=f"frame {i}")
    assert data.sum() > 0 and not np.array_equal(data[0], data[19])  # the crystal really turned
    # One Simulator per worker process, reused for all of its frames.
    pids = [pid for pid, _ in ds.last_renderers]
    assert len(pids) == len(set(pids)) == 2


def test_nxmx_file_holds_the_geometry_and_angles(cfg, sweep):
    ds, path, _ = sweep
    with h5py.File(path, "r") as f:
        e = f["entry"]
        assert e.attrs["NX_class"] == "NXentry"
        assert e["definition"][()] == b"NXmx"
        beam = e["instrument/beam"]
        assert beam.attrs["NX_class"] == "NXbeam"
        assert beam["incident_wavelength"][()] == pytest.approx(1.2)
        assert beam["incident_wavelength"].attrs["units"] == "angstrom"
        det = e["instrument/detector"]
        assert det.attrs["NX_class"] == "NXdetector"
        assert det["distance"][()] == pytest.approx(0.090) and det["distance"].attrs["units"] == "m"
        assert det["x_pixel_size"][()] == pytest.approx(0.0004) == det["y_pixel_size"][()]
        # MOSFLM default beam centre (detsize + pixel) / 2 = 6.6 mm, plus MOSFLM's half pixel:
        # 6.8 mm = 17 pixels from the outer corner of pixel (0, 0).
        assert det["beam_center_x"][()] == pytest.approx(17.0)
        assert det["beam_center_y"][()] == pytest.approx(17.0)
        data = det["data"]
        assert data.chunks == (1, 32, 32)
        assert BITSHUFFLE in data._filters or str(BITSHUFFLE) in data._filters
        assert e["data/data"].id == data.id  # NXdata links the detector's frames
        assert det["pixel_mask"].shape == (32, 32) and not det["pixel_mask"][()].any()
        # Detector chain: the normal (McStas z for MOSFLM) at the close distance, then the plane.
        chain = det["depends_on"][()].decode()
        z = f[chain]
        assert z.attrs["transformation_type"] == "translation" and z.attrs["depends_on"] == "."
        np.testing.assert_allclose(z.attrs["vector"], [0, 0, 1], atol=1e-12)
        assert z[()] == pytest.approx(0.090)
        fast = det["module/fast_pixel_direction"]
        assert fast[()] == pytest.approx(0.0004)
        mcstas = ds.setup.mcstas  # rows: McStas x, y, z in the lab frame (z along the beam)
        np.testing.assert_allclose(fast.attrs["vector"], mcstas @ np.asarray(ds.prepared.geometry["fdet"]), atol=1e-12)
        # Goniometer: phi per frame, from the sweep, the one rotation axis.
        s = e["sample"]
        assert s["depends_on"][()] == b"/entry/sample/transformations/phi"
        phi = s["transformations/phi"]
        assert phi.attrs["transformation_type"] == "rotation" and phi.attrs["units"] == "deg"
        np.testing.assert_allclose(phi[()], 5.0 + 0.5 * np.arange(20))
        np.testing.assert_allclose(s["transformations/phi_increment_set"][()], 0.5)
        np.testing.assert_allclose(s["unit_cell"][()], np.tile([60, 60, 60, 90, 90, 90], (20, 1)), atol=1e-9)
        assert e["nanobragg/written"][()].tolist() == [1] * 20
        stored = json.loads(e["nanobragg/description"][()])
    sidecar = json.loads(open(os.path.splitext(path)[0] + ".json").read())
    assert sidecar == stored
    assert sidecar["series"] == {"kind": "sweep", "start_deg": 5.0, "width_deg": 0.5, "frames": 20, "seed": 3}
    # The flags give back the run's config (the parser fills the unused seeds from the clock).
    back = SimulationConfig.from_cli_args(sidecar["cli_args"])
    assert back.replace(noise_seed=None, crystal={"misset_seed": None}) == ds.config
    assert back.crystal.misset_deg == (10, 20, 30) and back.detector.distance_mm == 90


def test_cli_writes_cbf_frames_that_fabio_reads(tmp_path, cfg):
    fabio = pytest.importorskip("fabio", reason="fabio is not installed (pip install fabio)")
    out = tmp_path / "noisy.h5"
    rc = main(FLAGS + ["--sweep", "0", "1", "4", "--seed", "9", "--noise", "--out", str(out),
                       "--cbf", str(tmp_path / "cbf"), "--workers", "0"])
    assert rc == 0
    data = frames(out)
    assert data.dtype == np.uint16 and data.shape == (4, 32, 32)
    img = fabio.open(str(tmp_path / "cbf" / "noisy_00003.cbf"))
    np.testing.assert_array_equal(img.data, data[2].astype(np.int32))
    assert "Start_angle 2.000000 deg." in img.header["_array_data.header_contents"]
    assert "Wavelength 1.2 A" in img.header["_array_data.header_contents"]  # the full header: test_file_kinds.py
    # The counts are nanoBragg's noise image of the photons, with the frame's own seed.
    ds = Dataset(cfg, RotationSweep(0, 1, 4, seed=9))
    photons = ds.render_frame(2)
    np.testing.assert_array_equal(data[2], api.add_noise(photons, ds.frame(2).noise_seed, adc=40.0))
    assert data[2].min() >= 30 and data[2].max() > 40  # ADC offset plus photons


def test_cli_rejects_bad_input_with_one_line(tmp_path, capsys):
    assert main(FLAGS + ["--stills", "3", "--out", str(tmp_path / "x.h5")]) == 2  # no --seed
    assert "--seed" in capsys.readouterr().err
    assert main(FLAGS + ["--sweep", "0", "1", "3", "--out", str(tmp_path / "x.h5"), "--wrokers", "2"]) == 2
    assert "did you mean --workers" in capsys.readouterr().err
    assert not (tmp_path / "x.h5").exists()


def test_interrupted_run_resumes_to_the_same_file(cfg, client, tmp_path):
    series = RotationSweep(start_deg=0.0, width_deg=2.0, frames=10, seed=1)
    whole = str(tmp_path / "whole.h5")
    Dataset(cfg, series).write(whole, workers=0)

    # Stop after 3 frames (the max_frames hook), then interrupt a second run from its callback.
    part = str(tmp_path / "part.h5")
    first = Dataset(cfg, series).write(part, workers=0, max_frames=3)
    assert first["written"] == 3
    with h5py.File(part, "r") as f:
        assert f["entry/nanobragg/written"][()].tolist() == [1, 1, 1] + [0] * 7
        assert "end_time" not in f["entry"]

    class Stop(Exception):
        pass

    def stop_at_six(done, total):
        if done >= 6:
            raise Stop

    with pytest.raises(Stop):
        Dataset(cfg, series).write(part, client=client, progress=stop_at_six)
    with h5py.File(part, "r") as f:
        flags = f["entry/nanobragg/written"][()]
    assert 6 <= flags.sum() < 10 and flags[:3].all()

    seen = []
    last = Dataset(cfg, series).write(part, client=client, progress=lambda d, t: seen.append(d))
    assert last["skipped"] == flags.sum() and last["written"] == 10 - flags.sum()
    assert seen[0] == flags.sum() and seen[-1] == 10
    np.testing.assert_array_equal(frames(part), frames(whole))
    with h5py.File(part, "r") as a, h5py.File(whole, "r") as b:
        for key in ("sample/transformations/phi", "sample/unit_cell", "nanobragg/written", "nanobragg/noise_seed",
                    "nanobragg/real_space_axes"):
            np.testing.assert_array_equal(a["entry/" + key][()], b["entry/" + key][()], err_msg=key)
        assert "end_time" in a["entry"]

    # A different series in the same file is refused, not mixed in.
    with pytest.raises(ValueError, match="different dataset .*use overwrite=True to replace it"):
        Dataset(cfg, RotationSweep(0.0, 1.0, 10, seed=1)).write(part, workers=0)


def test_cli_names_its_own_overwrite_flag(tmp_path, capsys):
    out = str(tmp_path / "x.h5")
    assert main(FLAGS + ["--sweep", "0", "1", "2", "--out", out, "--workers", "0"]) == 0
    capsys.readouterr()
    assert main(FLAGS + ["--sweep", "5", "1", "2", "--out", out, "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert "use --overwrite to replace it" in err and "overwrite=True" not in err
    assert main(FLAGS + ["--sweep", "5", "1", "2", "--out", out, "--workers", "0", "--overwrite"]) == 0


def test_still_series_is_reproducible_across_runs_and_worker_counts(cfg, client, tmp_path):
    series = StillSeries(count=12, seed=2024, jitter_cell_percent=2.0, jitter_size_percent=30.0)
    two = str(tmp_path / "two.h5")
    Dataset(cfg, series).write(two, client=client)
    one_cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0",
                               silence_logs=40)
    with Client(one_cluster) as one_client:
        one = str(tmp_path / "one.h5")
        Dataset(cfg, series).write(one, client=one_client)
    one_cluster.close()
    again = str(tmp_path / "again.h5")
    Dataset(cfg, series).write(again, workers=0)
    a, b, c = frames(two), frames(one), frames(again)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert len({f.tobytes() for f in a}) == 12  # a different crystal on every frame

    # Each frame is the public Simulator with that frame's crystal, orientation and mosaic seed.
    ds = Dataset(cfg, series)
    sizes = set()
    for i in (0, 5, 11):
        spec = ds.frame(i)
        sizes.add(spec.n_cells)
        sim = api.Simulator(ds.config.replace(crystal={"n_cells": spec.n_cells}))
        ref = sim.run(orientation=spec.orientation, mosaic_seed=spec.mosaic_seed).astype(np.float32)
        np.testing.assert_array_equal(a[i], ref, err_msg=f"frame {i}")
        lengths = np.linalg.norm(np.asarray(spec.orientation), axis=1)
        assert np.all(np.abs(lengths / 60.0 - 1) < 0.1) and not np.allclose(lengths, 60.0)  # 2% jitter
    assert len(sizes) > 1  # 30% size jitter on N=3 changes some crystals
    with h5py.File(two, "r") as f:
        np.testing.assert_array_equal(f["entry/nanobragg/n_cells"][11], ds.frame(11).n_cells)
        axes = f["entry/nanobragg/real_space_axes"][5]
        np.testing.assert_allclose(axes, np.asarray(ds.frame(5).orientation) @ ds.setup.mcstas.T)
        np.testing.assert_array_equal(f["entry/sample/transformations/phi"][()], np.zeros(12))
    # Another seed, other crystals.
    other = Dataset(cfg, StillSeries(count=12, seed=2025, jitter_cell_percent=2.0, jitter_size_percent=30.0))
    assert not np.array_equal(other.render_frame(0), a[0])


def test_orientations_are_uniform_rotations(cfg):
    ds = Dataset(cfg, StillSeries(count=400, seed=11))
    c_axes = np.array([np.asarray(ds.frame(i).orientation)[2] for i in range(400)]) / 60.0
    np.testing.assert_allclose(np.linalg.norm(c_axes, axis=1), 1.0, atol=1e-12)
    # Uniform on the sphere: mean near 0 (sd of each component 1/sqrt(3*400) ~ 0.029) and
    # second moments near 1/3.
    assert np.all(np.abs(c_axes.mean(axis=0)) < 0.12)
    np.testing.assert_allclose((c_axes ** 2).mean(axis=0), 1 / 3, atol=0.06)


def test_clusters_we_start_run_workers_without_the_dask_profiler():
    # The profiler samples every worker thread's stack every 10 ms; it cost the 2-worker
    # scaling several percent on 2 cores (bench/bench_dataset.py), so our own clusters turn it off.
    import dask

    from nanobragg_ext.dataset.cluster import connect

    own = []
    client, nworkers, nthreads = connect(None, None, 1, 30.0, own)
    try:
        assert (nworkers, nthreads) == (1, 1)
        settings = client.run(lambda: (dask.config.get("distributed.worker.profile.enabled"),
                                       dask.config.get("distributed.admin.tick.interval")))
        assert list(settings.values()) == [(False, "1s")]
    finally:
        for thing in own:
            thing.close()
    assert dask.config.get("distributed.worker.profile.enabled")  # the caller's own config is untouched


def test_workers_update_their_simulator_through_its_public_run(cfg):
    # A frame with its own crystal size, then the config's defaults again: each image equals a
    # fresh Simulator's, so the renderer's Simulator never holds a stale state.
    from nanobragg_ext.dataset.frames import FrameRenderer

    ds = Dataset(cfg, StillSeries(count=4, seed=5, jitter_size_percent=40.0))
    r = FrameRenderer(ds.job(threads=1))
    spec = next(ds.frame(i) for i in range(4) if ds.frame(i).n_cells != cfg.crystal.n_cells)
    image = r.photons(spec)
    assert image.dtype == np.float32  # rendered straight into what the file stores
    fresh = api.Simulator(ds.config.replace(crystal={"n_cells": spec.n_cells}), threads=1)
    np.testing.assert_array_equal(image, fresh.run(orientation=spec.orientation, mosaic_seed=spec.mosaic_seed)
                                  .astype(np.float32))
    np.testing.assert_array_equal(r.sim.run(), api.simulate(ds.config, dtype=np.float32, threads=1))
    sized = r.sim.run(size_mm=(0.0005, 0.0, 0.0))  # a size in mm overrides Na
    np.testing.assert_array_equal(sized, api.simulate(ds.config.replace(crystal={"size_mm": (0.0005, 0, 0)}),
                                                      dtype=np.float32, threads=1))
    assert not np.array_equal(sized, image)
