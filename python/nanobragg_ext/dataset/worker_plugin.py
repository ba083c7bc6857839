"""The worker plugin that carries a run's description to every worker of a Dask cluster.

The scheduler keeps registered worker plugins and sets them up on each worker that joins, so the
description (config and structure factors) reaches workers started after others were lost, and
no worker holds the only copy: losing any one worker loses nothing the run needs.
"""
from __future__ import annotations

from distributed.diagnostics.plugin import WorkerPlugin

from .frames import Job, drop_job, hold_job


class JobPlugin(WorkerPlugin):
    """Holds job in the worker's process while the run is registered."""

    def __init__(self, job: Job):
        self.job = job
        self.name = f"nanobragg-job-{job.token}"

    def setup(self, worker) -> None:
        hold_job(self.job)

    def teardown(self, worker) -> None:
        drop_job(self.job.token)
