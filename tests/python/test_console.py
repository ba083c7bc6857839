"""The console summary matches the C's stdout on every golden case, line for line, except what the
golden README lists as varying from run to run: progress lines, mmap pointers, and the order of
-printout blocks (the C prints them in its threads' order, so they are compared as a set); and the
position printed after max_I, which the C takes from whichever thread first sees a tied maximum."""
import re

import pytest

from conftest import golden_cases
from nanobragg_ext import parity

CASES = golden_cases()
VARYING = re.compile(r"^(\d+% done|mmap\(|reading .*\.img$)")
MAX_I_AT = re.compile(r"^(max_I = \S+)  at .*$")


def split(text: str):
    """(lines in order, sorted lines printed while rendering): what the C prints between its
    summary and the solid-angle line (-printout blocks, warnings) interleaves across threads."""
    lines = [MAX_I_AT.sub(r"\1", line) for line in text.splitlines() if not VARYING.match(line)]
    end = next((i for i, line in enumerate(lines) if line.startswith("solid angle subtended")), len(lines))
    summary_end = re.compile(r"^  (water droplet size: |\d+x\d+ pixel oversample steps|skipping zero-flagged pixels)")
    start = max((i + 1 for i, line in enumerate(lines[:end]) if summary_end.match(line)), default=0)
    start = min(start, end)
    return lines[:start] + lines[end:], sorted(lines[start:end])


@pytest.mark.skipif(not CASES, reason="golden data not found: set NANOBRAGG_GOLDEN or put shared/golden beside the repository")
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_console_matches_c(case, golden, tmp_path):
    ours = split(parity.run_case(case, golden, tmp_path))
    ref = split((golden / case["outputs"]["stdout"]).read_text(errors="replace"))
    assert ours[0] == ref[0]
    assert ours[1] == ref[1]
