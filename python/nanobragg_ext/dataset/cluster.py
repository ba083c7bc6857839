"""Rendering a dataset's frames on a Dask cluster, so that losing a worker loses nothing.

What survives what:

- The run description (:class:`frames.Job`: config, structure factors in memory) is kept by the
  scheduler for the run (scheduler metadata) and fetched by each worker with its first task of the
  run, a worker that joins later included; tasks carry only the run's token and their frame's
  description. No worker holds the only copy of anything a task needs.
- A worker lost while it renders (killed, pre-empted): the scheduler gives its frames to other
  workers, and frames it had finished but the client had not yet collected are rendered again.
  Every frame is still written once, and frame i is the same image wherever it is rendered.
- A frame whose task raises (e.g. MemoryError): tried again, on another worker when there is one,
  up to :data:`MAX_ATTEMPTS` times in all; then the run stops with :class:`FrameError` naming the
  frame and the cause. A frame whose workers keep dying while rendering it stops the run the same
  way once Dask gives up on it (``distributed.scheduler.allowed-failures``, KilledWorker).
- No worker for ``timeout`` seconds (at the start or during the run), a scheduler that cannot
  be reached, or one lost during the run (Dask then cancels every task): :class:`ClusterError`.

Whatever stops a run, the frames written so far stay in the file and a new run resumes there.
"""
from __future__ import annotations

import time
from typing import Callable, Dict, Iterable, Optional, Set, Tuple

from .frames import FrameFailure, Job, job_key, render_task
from .series import FrameSpec

__all__ = ["MAX_ATTEMPTS", "ClusterError", "FrameError", "require_distributed", "connect", "render_on_cluster"]

MAX_ATTEMPTS = 3  # a frame that fails this many times stops the run
POLL_S = 0.25     # how often the client looks at the cluster's workers while it waits for frames

# The workers' statistical profiler (a stack sample every 10 ms) and event-loop/GIL monitors take
# CPU from the frames and nothing here reads them: off for the clusters we start.
QUIET_WORKERS = {"distributed.worker.profile.enabled": False,
                 "distributed.admin.tick.interval": "1s",
                 "distributed.admin.system-monitor.gil.enabled": False}


class ClusterError(RuntimeError):
    """No cluster to render on: the scheduler cannot be reached or was lost, or it has no workers."""


class FrameError(RuntimeError):
    """A frame failed on every attempt; the run stopped (frames already written are kept)."""

    def __init__(self, index: int, message: str):
        super().__init__(message)
        self.index = index


def require_distributed() -> None:
    """extras.MissingExtra naming the extra to install unless dask.distributed imports."""
    from ..extras import require_extra

    require_extra("distributed", "dataset", "dataset workers (Dask)",
                  instead="--workers 0 (workers=0) to render in this process")


def connect(client, scheduler: Optional[str], workers: int, timeout: float, own: list):
    """(client, workers, worker threads): the given client, one on scheduler, or a LocalCluster of
    workers processes (one thread each). Anything started here is appended to own (close it).
    Waits up to timeout seconds for the scheduler and for a first worker."""
    from distributed import Client, LocalCluster

    if client is None and scheduler is not None:
        try:
            client = Client(scheduler, timeout=timeout)
        except (OSError, TimeoutError, ValueError) as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ClusterError(f"cannot reach the Dask scheduler at {scheduler} ({reason})") from None
        own.append(client)
    elif client is None:
        import dask

        # One thread per worker: the renderer is OpenMP-parallel itself, and one Simulator per
        # process then serves every task of that worker.
        with dask.config.set(QUIET_WORKERS):
            cluster = LocalCluster(n_workers=max(1, int(workers)), threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=40)
        client = Client(cluster)
        own += [client, cluster]  # closed in this order
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise ClusterError(f"no Dask workers on the scheduler at {client.scheduler.address} "
                           f"after {timeout:g} s") from None
    nthreads = client.nthreads()
    return client, len(nthreads), max(1, sum(nthreads.values()))


class _WorkerWatch:
    """The cluster's workers as the client last saw them: reports the ones that went away and
    stops the run when none has been there for timeout seconds."""

    def __init__(self, client, timeout: float, notify: Callable[[str], None]):
        self.client = client
        self.timeout = timeout
        self.notify = notify
        self.workers: Set[str] = set(client.nthreads())
        self.lost = 0
        self.seen = time.monotonic()
        self.empty_since: Optional[float] = None

    def look(self, now: Optional[float] = None) -> None:
        now = time.monotonic() if now is None else now
        self.seen = now
        try:
            current = set(self.client.nthreads())
        except OSError:  # the scheduler is out of reach: the client reconnects or gives up on it
            return
        for address in sorted(self.workers - current):
            self.lost += 1
            self.notify(f"worker {address} lost ({self.lost} so far); the frames it held are rendered again "
                        f"elsewhere ({len(current)} worker(s) left)")
        self.workers = current
        if current:
            self.empty_since = None
        elif self.empty_since is None:
            self.empty_since = now
        elif now - self.empty_since > self.timeout:
            raise ClusterError(f"no Dask workers left for {self.timeout:g} s; the frames written so far "
                               "are kept (run again to resume)")

    def poll(self) -> None:
        now = time.monotonic()
        if now - self.seen >= POLL_S:
            self.look(now)


def _first_done(futures, timeout: float) -> Iterable:
    """The futures that finished (or failed) within timeout seconds; empty when none did."""
    from distributed import wait

    try:
        return wait(futures, timeout=timeout, return_when="FIRST_COMPLETED").done
    except TimeoutError:
        return ()


def _scheduler_lost(client) -> bool:
    """Whether the client has lost its scheduler: it cancels every future at once, then tries to
    reconnect for its timeout, then closes."""
    return client.status != "running"


LOST_SCHEDULER = "lost the connection to the Dask scheduler; the frames written so far are kept (run again to resume)"


def render_on_cluster(client, job: Job, spec_of: Callable[[int], FrameSpec], todo: Iterable[int],
                      store: Callable[[int, object], None], max_in_flight: int, timeout: float,
                      notify: Callable[[str], None]) -> Tuple[set, int]:
    """Render the frames todo, at most max_in_flight at a time, and store each as it arrives.

    Returns the (pid, Simulator id) pairs that rendered them and the number of workers lost.
    Raises FrameError when a frame fails MAX_ATTEMPTS times, ClusterError when the cluster has no
    workers for timeout seconds or the scheduler is lost; in-flight frames are cancelled.
    """
    import pickle
    from concurrent.futures import CancelledError

    from distributed import KilledWorker

    # The run description stays with the scheduler, not with any worker; each worker fetches it
    # with its first task of the run.
    client.set_metadata(job_key(job.token), pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
    watch = _WorkerWatch(client, timeout, notify)
    pending = iter(todo)
    running: Dict[object, Tuple[int, int]] = {}  # future -> (frame index, attempt)
    failed_on: Dict[int, Set[Optional[str]]] = {}
    renderers = set()

    def submit(index: int, attempt: int) -> None:
        where = {}
        others = [w for w in watch.workers if w not in failed_on.get(index, ())]
        if attempt and others:  # a retry goes elsewhere when it can
            where = {"workers": others, "allow_other_workers": True}
        f = client.submit(render_task, job.token, spec_of(index), pure=False,
                          key=f"nanobragg-frame-{job.token}-{index}-{attempt}", **where)
        running[f] = (index, attempt)

    def submit_next() -> None:
        for i in pending:
            submit(i, 0)
            return

    def failed(index: int, attempt: int, worker: Optional[str], cause: str) -> None:
        failed_on.setdefault(index, set()).add(worker)
        if attempt + 1 >= MAX_ATTEMPTS:
            where = len({w for w in failed_on[index] if w is not None})
            raise FrameError(index, f"frame {index} failed {attempt + 1} times (on {where} worker(s)): {cause}")
        submit(index, attempt + 1)

    try:
        for _ in range(max(1, int(max_in_flight))):
            submit_next()
        while running:
            done = _first_done(list(running), POLL_S)
            watch.poll()
            for f in done:
                index, attempt = running.pop(f)
                if f.status == "error":
                    e = f.exception()
                    if isinstance(e, KilledWorker):
                        raise FrameError(index, f"frame {index}: the workers rendering it kept dying ({e})")
                    failed(index, attempt, None, f"{type(e).__name__}: {e}")
                    continue
                if f.status == "cancelled":  # by the client that lost its scheduler, or by another client
                    if _scheduler_lost(client):
                        raise ClusterError(LOST_SCHEDULER)
                    failed(index, attempt, None, "its task was cancelled")
                    continue
                result = f.result()
                if isinstance(result, FrameFailure):
                    failed(index, attempt, result.worker, result.cause)
                    continue
                _, frame, who = result
                renderers.add(who)
                store(index, frame)
                submit_next()
        watch.look()  # a loss just before the last frame came in is still reported
    except (CancelledError, OSError):
        if _scheduler_lost(client):
            raise ClusterError(LOST_SCHEDULER) from None
        raise
    finally:
        if running and not _scheduler_lost(client):  # stopped early: drop the rest
            client.cancel(list(running))
        if not _scheduler_lost(client):  # else the description went with the scheduler
            client.set_metadata(job_key(job.token), None)
    return renderers, watch.lost
