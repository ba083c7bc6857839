"""Datasets through the loss of workers and the failure of frames: a worker SIGKILLed at four
moments of a run (before the first frame, early, mid-run, near the end) leaves a run that finishes
by itself, exit 0, every frame written once and equal to a serial run; a frame that fails on every
attempt stops the run with its index and cause, finished frames kept and resumable; a worker that
fails frames hands them to another; a frame that kills every worker it runs on stops the run; losing
the scheduler stops it with the frames kept; a worker that joins mid-run renders from the run description
it fetches from the scheduler; an unreachable scheduler, a scheduler without workers and a
missing Dask or h5py give one line, exit 2, and no file.

NANOBRAGG_WORKER_LOSS_REPEATS=20 repeats the kill runs (CI runs them once)."""
import os
import re
import signal
import socket
import subprocess
import sys

import numpy as np
import pytest

for _mod in ("dask", "distributed", "h5py", "hdf5plugin"):
    pytest.importorskip(_mod, reason=f"{_mod} is not installed (pip install -e '.[test]')")

import dask  # noqa: E402
import h5py  # noqa: E402
import hdf5plugin  # noqa: E402,F401  (registers the bitshuffle filter for reading)
from distributed import Client, LocalCluster  # noqa: E402
from distributed.diagnostics.plugin import SchedulerPlugin  # noqa: E402
from distributed.utils import sync  # noqa: E402

from nanobragg_ext.config import SimulationConfig  # noqa: E402
from nanobragg_ext.dataset import ClusterError, Dataset, FrameError, RotationSweep, main  # noqa: E402
from nanobragg_ext.dataset.cluster import MAX_ATTEMPTS, _WorkerWatch  # noqa: E402

FLAGS = ("-cell 60 60 60 90 90 90 -default_F 10 -N 3 -detpixels 24 -pixel 0.5 -distance 90 -lambda 1.2 "
         "-mosaic 0.5 -mosaic_domains 3 -misset 10 20 30").split()
FRAMES = 12
SWEEP = ["--sweep", "0", "1.5", str(FRAMES), "--seed", "4"]
MOMENTS = {"before the first frame": 0, "early": 2, "mid-run": FRAMES // 2, "near the end": FRAMES - 2}
REPEATS = int(os.environ.get("NANOBRAGG_WORKER_LOSS_REPEATS", "1"))


@pytest.fixture(scope="module")
def cluster():
    # Two worker processes under nannies, as the runner starts them: a killed one is restarted.
    # LocalCluster retires a worker name that is missing lost-worker-timeout (15 s) after one of its
    # losses; these tests kill the same names every few seconds, so that check is put off. Dask
    # gives up on a task after allowed-failures + 1 deaths of its worker: 2 here, not the default 4,
    # so that the test of a frame that kills every worker it runs on waits for two restarts only.
    with dask.config.set({"distributed.deploy.lost-worker-timeout": "1h", "distributed.scheduler.allowed-failures": 1}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                               silence_logs=50)
        client = Client(cluster)
        yield cluster, client
        client.close()
        cluster.close()


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The frames of an uninterrupted run in this process."""
    path = str(tmp_path_factory.mktemp("serial") / "serial.h5")
    assert main(FLAGS + SWEEP + ["--out", path, "--workers", "0"]) == 0
    return frames(path)


def frames(path):
    with h5py.File(path, "r") as f:
        assert f["entry/nanobragg/written"][()].all()
        return f["entry/instrument/detector/data"][()]


def on_scheduler(cluster, fn):
    """fn(scheduler) in the scheduler's event loop (it lives in this process)."""
    async def call():
        return fn(cluster.scheduler)
    return sync(cluster.loop, call)


class KillWorkerAt(SchedulerPlugin):
    """Once `after` frames have finished, SIGKILLs the process of a worker that is rendering a
    frame at that moment (so a frame is in flight on it); once only."""

    name = "kill-worker-at"

    def __init__(self, scheduler, after, pids):
        self.scheduler = scheduler
        self.after = after
        self.pids = pids
        self.finished = 0
        self.killed = None

    def transition(self, key, start, finish, *args, **kwargs):
        if self.killed is not None or not str(key).startswith("nanobragg-frame-"):
            return
        if finish == "memory":
            self.finished += 1
        if self.finished < self.after:
            return
        for ts in self.scheduler.tasks.values():
            if ts.state == "processing" and str(ts.key).startswith("nanobragg-frame-"):
                self.killed = ts.processing_on.address
                os.kill(self.pids[self.killed], signal.SIGKILL)
                return


@pytest.mark.parametrize("repeat", range(REPEATS))
def test_a_run_survives_a_worker_killed_at_any_moment(cluster, serial, tmp_path, capsys, repeat):
    cluster, client = cluster
    for moment, after in MOMENTS.items():
        client.wait_for_workers(2, timeout=60)  # the nanny has replaced the last one killed
        pids = client.run(os.getpid)
        killer = KillWorkerAt(cluster.scheduler, after, pids)
        on_scheduler(cluster, lambda s: s.add_plugin(killer))
        path = str(tmp_path / f"{after}.h5")
        try:
            rc = main(FLAGS + SWEEP + ["--out", path, "--scheduler", cluster.scheduler_address])
        finally:
            on_scheduler(cluster, lambda s: s.remove_plugin(KillWorkerAt.name))
        out, err = capsys.readouterr()
        assert killer.killed is not None, moment
        assert rc == 0, f"{moment}: {err}"
        assert f"wrote {FRAMES} frames (0 already there)" in out and "1 worker(s) lost" in out, moment
        assert f"worker {killer.killed} lost" in err, moment  # progress says so, and keeps counting
        np.testing.assert_array_equal(frames(path), serial, err_msg=moment)


def test_a_worker_that_joins_mid_run_renders_from_the_run_description(serial, tmp_path):
    # The only worker is killed before its first frame: every frame waits for the one its nanny
    # starts, which fetches the run description from the scheduler.
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=50) as one, Client(one) as client:
        pids = client.run(os.getpid)
        killer = KillWorkerAt(one.scheduler, 0, pids)
        on_scheduler(one, lambda s: s.add_plugin(killer))
        notes, counted = [], []
        ds = Dataset(SimulationConfig.from_cli_args(FLAGS), RotationSweep(0, 1.5, FRAMES, seed=4))
        stats = ds.write(str(tmp_path / "joined.h5"), client=client, notify=notes.append,
                         progress=lambda done, total: counted.append(done))
    assert killer.killed is not None and stats["written"] == FRAMES and stats["workers_lost"] == 1
    assert pids[killer.killed] not in {pid for pid, _ in ds.last_renderers}  # the new worker rendered them
    assert len(notes) == 1 and notes[0].startswith(f"worker {killer.killed} lost")
    assert counted == list(range(FRAMES + 1))  # progress counted every frame once, through the loss
    np.testing.assert_array_equal(frames(str(tmp_path / "joined.h5")), serial)


def out_of_memory_patches():
    """(break, heal): functions for client.run that make a worker's frames raise MemoryError, and undo
    it. Made here so that they travel by value (workers need not import this file)."""
    def break_frames(dask_worker):
        from nanobragg_ext.dataset import frames as nbframes

        def out_of_memory(self, spec):
            raise MemoryError("no memory left on this worker")
        nbframes.FrameRenderer.working_frame = nbframes.FrameRenderer.frame
        nbframes.FrameRenderer.frame = out_of_memory

    def heal(dask_worker):
        from nanobragg_ext.dataset import frames as nbframes
        nbframes.FrameRenderer.frame = nbframes.FrameRenderer.working_frame
    return break_frames, heal


def test_a_frame_failing_on_a_worker_is_rendered_by_another(cluster, serial, tmp_path):
    cluster, client = cluster
    client.wait_for_workers(2, timeout=60)
    bad = sorted(client.nthreads())[0]
    break_frames, heal = out_of_memory_patches()
    client.run(break_frames, workers=[bad])
    try:
        path = str(tmp_path / "moved.h5")
        cfg = SimulationConfig.from_cli_args(FLAGS)
        stats = Dataset(cfg, RotationSweep(0, 1.5, FRAMES, seed=4)).write(path, client=client)
    finally:
        client.run(heal, workers=[bad])
    assert stats["written"] == FRAMES
    np.testing.assert_array_equal(frames(path), serial)
    # The scheduler held the run description for the run only.
    held = on_scheduler(cluster, lambda s: [k for k, v in s.task_metadata.items()
                                            if str(k).startswith("nanobragg-ext-job-") and v is not None])
    assert held == []


def test_a_frame_failing_everywhere_stops_the_run_and_keeps_the_frames_written(cluster, tmp_path, capsys):
    cluster, client = cluster
    client.wait_for_workers(2, timeout=60)
    source = tmp_path / "beam.txt"  # workers read it when they build their Simulator
    source.write_text("-1 0 0 1 1.2e-10\n")
    args = FLAGS + ["-sourcefile", str(source)] + SWEEP + ["--scheduler", cluster.scheduler_address]
    path = str(tmp_path / "stopped.h5")
    assert main(args + ["--out", path, "--max-frames", "3"]) == 0
    capsys.readouterr()
    ds = Dataset(SimulationConfig.from_cli_args(FLAGS + ["-sourcefile", str(source)]),
                 RotationSweep(0, 1.5, FRAMES, seed=4))
    source.unlink()  # now no worker can build its renderer
    with pytest.raises(FrameError) as e:
        ds.write(path, client=client)
    assert re.fullmatch(rf"frame \d+ failed {MAX_ATTEMPTS} times \(on 2 worker\(s\)\): InputError: .*beam\.txt.*",
                        str(e.value))
    assert 3 <= e.value.index < FRAMES
    with h5py.File(path, "r") as f:
        assert f["entry/nanobragg/written"][()].tolist() == [1, 1, 1] + [0] * (FRAMES - 3)
        assert "end_time" not in f["entry"]
    source.write_text("-1 0 0 1 1.2e-10\n")

    # The command line, every worker out of memory: one line naming the frame and the cause, exit 2.
    break_frames, heal = out_of_memory_patches()
    client.run(break_frames)
    try:
        rc = main(args + ["--out", path])
    finally:
        client.run(heal)
    line = one_line_error(capsys, rc)
    assert re.fullmatch(r"nanobragg-ext dataset: error: frame \d+ failed 3 times \(on 2 worker\(s\)\): "
                        r"MemoryError: no memory left on this worker; the frames written so far are kept "
                        r"\(run again to resume\)", line)
    # Healthy workers again: the run resumes and completes, as an uninterrupted run.
    assert main(args + ["--out", path]) == 0
    assert "wrote 9 frames (3 already there)" in capsys.readouterr().out
    with h5py.File(path, "r") as f:
        assert f["entry/nanobragg/written"][()].all() and "end_time" in f["entry"]
    fresh = str(tmp_path / "fresh.h5")
    assert main(args + ["--out", fresh, "--workers", "0"]) == 0
    np.testing.assert_array_equal(frames(path), frames(fresh))


def open_when_unlocked(path, seconds=30.0):
    """h5py.File(path, "r") once HDF5's file lock is free. Under heavy load (CI's 2 cores) the lock
    of the writer that just closed the file was seen still held for a moment (BlockingIOError,
    errno 11, "unable to lock file") while the killed workers were being restarted; the frames
    and flags read are the same either way, so wait for it rather than fail."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        try:
            return h5py.File(path, "r")
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_a_frame_that_kills_every_worker_it_runs_on_stops_the_run(cluster, serial, tmp_path):
    cluster, client = cluster
    client.wait_for_workers(2, timeout=60)
    from distributed.diagnostics.plugin import WorkerPlugin

    class KillOnFrame5(WorkerPlugin):  # on every worker, restarted ones included
        name = "kill-on-frame-5"

        def setup(self, worker):
            from nanobragg_ext.dataset import frames as nbframes

            working = nbframes.FrameRenderer.frame

            def frame(renderer, spec):
                if spec.index == 5:  # as the kernel's out-of-memory killer would
                    os.kill(os.getpid(), signal.SIGKILL)
                return working(renderer, spec)
            nbframes.FrameRenderer.working_frame, nbframes.FrameRenderer.frame = working, frame

        def teardown(self, worker):
            from nanobragg_ext.dataset import frames as nbframes
            nbframes.FrameRenderer.frame = nbframes.FrameRenderer.working_frame

    ds = Dataset(SimulationConfig.from_cli_args(FLAGS), RotationSweep(0, 1.5, FRAMES, seed=4))
    path = str(tmp_path / "killer.h5")
    client.register_plugin(KillOnFrame5())
    try:
        with pytest.raises(FrameError, match=r"^frame 5: the workers rendering it kept dying") as e:
            ds.write(path, client=client, max_in_flight=1)  # one frame at a time: only frame 5 dies
    finally:
        client.unregister_worker_plugin(KillOnFrame5.name)
    assert e.value.index == 5
    with open_when_unlocked(path) as f:
        assert f["entry/nanobragg/written"][()].tolist() == [1] * 5 + [0] * (FRAMES - 5)
    client.wait_for_workers(2, timeout=60)
    assert ds.write(path, client=client)["written"] == FRAMES - 5  # resumed on healthy workers
    np.testing.assert_array_equal(frames(path), serial)


def test_losing_the_scheduler_stops_the_run_and_keeps_the_frames_written(serial, tmp_path):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                  "--port", str(port), "--dashboard-address", ":0"], stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
                               "--no-nanny"], stderr=subprocess.DEVNULL)
    try:
        with Client(address, timeout=60) as ready:  # both processes up
            ready.wait_for_workers(1, timeout=60)

        def lose_the_scheduler(done, total):
            if done == 3:
                scheduler.kill()
                scheduler.wait()

        ds = Dataset(SimulationConfig.from_cli_args(FLAGS), RotationSweep(0, 1.5, FRAMES, seed=4))
        path = str(tmp_path / "orphan.h5")
        with pytest.raises(ClusterError, match="lost the connection to the Dask scheduler"):
            ds.write(path, scheduler=address, timeout=1, progress=lose_the_scheduler)
    finally:
        for p in (scheduler, worker):
            p.kill()
            p.wait()
    with h5py.File(path, "r") as f:
        assert f["entry/nanobragg/written"][()][:3].all() and not f["entry/nanobragg/written"][()].all()
    ds.write(path, workers=0)  # resumed here
    np.testing.assert_array_equal(frames(path), serial)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_nothing_written(tmp_path):
    assert sorted(os.listdir(tmp_path)) == []


def one_line_error(capsys, rc):
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and err[0].startswith("nanobragg-ext dataset: error: "), err
    return err[0]


def test_an_unreachable_scheduler_is_one_line_and_no_file(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    address = f"tcp://127.0.0.1:{free_port()}"
    rc = main(FLAGS + SWEEP + ["--out", str(out / "x.h5"), "--scheduler", address, "--timeout", "1"])
    assert f"cannot reach the Dask scheduler at {address}" in one_line_error(capsys, rc)
    assert_nothing_written(out)


def test_a_scheduler_without_workers_is_one_line_and_no_file(tmp_path, capsys):
    empty = LocalCluster(n_workers=0, processes=False, dashboard_address=":0", silence_logs=50)
    try:
        rc = main(FLAGS + SWEEP + ["--out", str(tmp_path / "x.h5"), "--scheduler", empty.scheduler_address,
                                   "--timeout", "0.5"])
    finally:
        empty.close()
    assert "no Dask workers on the scheduler" in one_line_error(capsys, rc)
    assert_nothing_written(tmp_path)


def test_no_workers_left_for_the_timeout_stops_the_run():
    class Cluster:  # the client's view of a cluster whose workers have all gone
        workers = {"tcp://a:1": 1}

        def nthreads(self):
            return dict(self.workers)

    seen = []
    c = Cluster()
    watch = _WorkerWatch(c, timeout=10.0, notify=seen.append)
    c.workers = {}
    watch.look(now=100.0)
    assert seen == ["worker tcp://a:1 lost (1 so far); the frames it held are rendered again elsewhere "
                    "(0 worker(s) left)"]
    watch.look(now=109.0)  # still within the timeout
    with pytest.raises(ClusterError, match="no Dask workers left for 10 s"):
        watch.look(now=110.5)
    c.workers = {"tcp://b:2": 1}  # a worker came back in time: the clock starts again
    watch.look(now=111.0)
    assert watch.empty_since is None and watch.lost == 1


@pytest.mark.parametrize("missing, extra", [("distributed", "dataset workers (Dask) needs distributed, which is not"),
                                            ("h5py", "dataset output (NXmx) needs h5py, which is not"),
                                            ("hdf5plugin", "dataset output (NXmx) needs hdf5plugin, which is not")])
def test_a_missing_optional_package_is_one_line_naming_the_extra(tmp_path, capsys, monkeypatch, missing, extra):
    monkeypatch.setitem(sys.modules, missing, None)  # import raises ImportError
    rc = main(FLAGS + SWEEP + ["--out", str(tmp_path / "x.h5"), "--workers", "1"])
    line = one_line_error(capsys, rc)
    assert extra in line and "pip install 'nanobragg-ext[dataset]'" in line
    assert_nothing_written(tmp_path)


def test_no_arguments_is_a_usage_error(capsys):
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("usage: nanobragg-ext dataset") and captured.out == ""
    assert main(["--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: nanobragg-ext dataset")
