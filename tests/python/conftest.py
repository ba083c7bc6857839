"""Shared fixtures: the golden data of the original C (``$NANOBRAGG_GOLDEN`` or ../shared/golden)."""
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
