"""The shipped example inputs and the README's examples: examples/make_inputs.py writes exactly the
files in examples/, every ``nanobragg-ext`` command line and the Python API block of README.md run
as written from the repository root, and examples/scan_orientations.py runs."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nanobragg_ext import io as nbio

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
README = (REPO / "README.md").read_text()


def readme_blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def readme_command_blocks():
    """The nanobragg-ext commands of each of the README's sh blocks (a block's commands run in order:
    a later one may read what an earlier one wrote), continuation lines joined, comments dropped;
    the `dataset ...` placeholder line is left out."""
    blocks = []
    for block in readme_blocks("sh"):
        commands = []
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("nanobragg-ext") and "..." not in line:
                commands.append(line.split())
        if commands:
            blocks.append(commands)
    return blocks


def readme_commands():
    return [c for block in readme_command_blocks() for c in block]


def repo_copy(tmp_path):
    """A directory laid out like a clean clone's root, for what the examples read."""
    shutil.copytree(EXAMPLES, tmp_path / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def cli(args, cwd, timeout=600):
    return subprocess.run([sys.executable, "-m", "nanobragg_ext.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def test_make_inputs_writes_the_shipped_files(tmp_path):
    r = subprocess.run([sys.executable, str(EXAMPLES / "make_inputs.py"), str(tmp_path)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    for name in ("P1.hkl", "A.mat", "sources.txt"):
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name
    gemmi = pytest.importorskip("gemmi", reason="the MTZ example needs gemmi ([test] extra)")
    new, shipped = (gemmi.read_mtz_file(str(p / "P1_asu.mtz")) for p in (tmp_path, EXAMPLES))
    np.testing.assert_array_equal(np.asarray(new.array), np.asarray(shipped.array))
    assert [c.label for c in new.columns] == [c.label for c in shipped.columns] == ["H", "K", "L", "F"]


def test_the_mtz_expands_back_to_the_shipped_p1_table(tmp_path):
    pytest.importorskip("gemmi", reason="nanobragg-ext hkl needs gemmi ([test] extra)")
    r = cli(["hkl", str(EXAMPLES / "P1_asu.mtz"), "P1.hkl"], tmp_path)
    assert r.returncode == 0, r.stderr
    ours, shipped = nbio.read_hkl(str(tmp_path / "P1.hkl")), nbio.read_hkl(str(EXAMPLES / "P1.hkl"))
    assert ours.bounds == shipped.bounds and ours.hkls == shipped.hkls == 9005
    np.testing.assert_array_equal(ours.values, shipped.values)  # same decimals: %.2f in both


def test_readme_lists_commands_for_every_example_input():
    text = " ".join(" ".join(c) for c in readme_commands())
    for name in ("P1.hkl", "A.mat", "sources.txt", "P1_asu.mtz"):
        assert f"examples/{name}" in text, name


@pytest.mark.slow
@pytest.mark.parametrize("block", readme_command_blocks(), ids=lambda b: " ".join(b[0][1:4]))
def test_readme_commands_run_as_written(tmp_path, block):
    cwd = repo_copy(tmp_path)
    for command in block:
        if command[1:2] == ["hkl"]:
            pytest.importorskip("gemmi", reason="nanobragg-ext hkl needs gemmi ([test] extra)")
        if command[1:2] == ["dataset"]:
            pytest.importorskip("dask", reason="nanobragg-ext dataset needs dask ([test] extra)")
        # The dataset example renders 60 frames (1.5 min on this project's 2 busy cores); its first 2
        # exercise the same command (the rest differ only in their random orientation).
        extra = ["--max-frames", "2"] if command[1:2] == ["dataset"] else []
        r = cli(command[1:] + extra, cwd)
        assert r.returncode == 0, f"{' '.join(command)}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"


def test_readme_python_api_block_runs_as_written(tmp_path):
    pytest.importorskip("PIL", reason="the block writes a PNG (Pillow is in the [test] extra)")
    block = readme_blocks("python")[0]
    assert "nb.simulate(cfg)" in block
    cwd = repo_copy(tmp_path)
    r = subprocess.run([sys.executable, "-c", block], cwd=cwd, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    smv = nbio.read_smv(str(cwd / "demo.smv"))
    assert (smv.width, smv.height) == (256, 256)
    assert re.search(r"\nPHI=10(\.0+)?;", smv.header) and re.search(r"\nOSC_RANGE=0\.5(0*)?;", smv.header)
    assert (cwd / "demo.png").read_bytes()[:4] == b"\x89PNG"


def test_scan_orientations_example_runs(tmp_path):
    pytest.importorskip("PIL", reason="the example writes a PNG (Pillow is in the [test] extra)")
    r = subprocess.run([sys.executable, str(EXAMPLES / "scan_orientations.py"), str(tmp_path / "m.png")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "10 orientations" in r.stdout and (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"


def test_readme_realistic_command_is_the_scripts():
    sys.path.insert(0, str(EXAMPLES))
    try:
        import realistic_image
    finally:
        sys.path.remove(str(EXAMPLES))
    words = realistic_image.COMMAND.split()
    assert words in readme_commands()


def test_realistic_image_script_writes_the_preview(tmp_path):
    pytest.importorskip("PIL", reason="the preview is a PNG (Pillow is in the [test] extra)")
    out = tmp_path / "realistic.png"
    r = subprocess.run([sys.executable, str(EXAMPLES / "realistic_image.py"), str(out)], cwd=REPO,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    assert data[:4] == b"\x89PNG" and len(data) < 200_000
    assert (REPO / "docs" / "img" / "realistic.png").read_bytes()[:4] == b"\x89PNG"  # the committed one
