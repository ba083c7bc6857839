"""A short differential fuzz run against the original C (set NB_C_BIN to its nanoBragg binary):
40 random command lines, every one judged by the policy of README's error section."""
import os
import shlex
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from grammar import make_case  # noqa: E402
from judge import ForkServer, Subprocess, run_case  # noqa: E402

C_BIN = os.environ.get("NB_C_BIN")
OURS = ForkServer()


@pytest.mark.skipif(not C_BIN, reason="NB_C_BIN is not set: no original nanoBragg to compare against")
@pytest.mark.parametrize("number", range(40))
def test_case_follows_the_policy(number):
    case = make_case(number)
    v = run_case(case, Subprocess([C_BIN]), OURS, timeout=60)
    assert v.verdict in ("ok", "deviation", "inconclusive"), f"{v.key}: {shlex.join(case.argv)}\n{v.detail}"
