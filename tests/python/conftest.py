"""Shared fixtures: the golden data of the original C (``$NANOBRAGG_GOLDEN`` or ../shared/golden), and
a local Dask cluster for the dataset tests."""
import json
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def golden_root():
    env = os.environ.get("NANOBRAGG_GOLDEN")
    root = Path(env) if env else REPO.parent / "shared" / "golden"
    return root if (root / "manifest.json").exists() else None


def golden_cases():
    root = golden_root()
    if root is None:
        return []
    return json.loads((root / "manifest.json").read_text())["cases"]


@pytest.fixture(scope="session")
def golden():
    root = golden_root()
    if root is None:
        pytest.skip("golden data not found: set NANOBRAGG_GOLDEN or put shared/golden beside the repository")
    return root


@pytest.fixture(scope="module")
def client():
    """A 2-worker local Dask cluster of processes, one thread each: the layout the dataset runner
    uses on one machine (for test modules that have checked distributed is installed)."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=40)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()
