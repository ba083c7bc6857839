"""Optional packages (extras.py): a feature whose package is missing stops before anything is
rendered or written, with one line naming the extra to install and exit status 2.

The missing package is simulated in a child interpreter by an import hook that refuses it (and
drops it from sys.modules), so the packages installed here stay untouched."""
import subprocess
import sys

import numpy as np
import pytest

from nanobragg_ext import extras
from nanobragg_ext import structure_factors as sf

GOOD = ("-cell 60 60 60 90 90 90 -default_F 10 -N 3 -lambda 1 -distance 100 -detpixels 32 -pixel 0.1 "
        "-seed 1 -noprogress").split()

# argv[1]: comma list of blocked top-level modules; argv[2:]: the nanobragg-ext arguments.
RUN_WITHOUT = """
import sys
BLOCKED = set(sys.argv[1].split(","))


class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"No module named '{name}' (blocked by the test)")
        return None


for loaded in [m for m in sys.modules if m.split(".")[0] in BLOCKED]:
    del sys.modules[loaded]
sys.meta_path.insert(0, Refuse())
from nanobragg_ext.cli import main
sys.exit(main(sys.argv[2:]))
"""


def run_without(blocked, args, cwd):
    return subprocess.run([sys.executable, "-c", RUN_WITHOUT, ",".join(blocked), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def assert_refused(r, *words):
    assert r.returncode == 2, r.stdout + r.stderr
    err = r.stderr.strip()
    assert err.count("\n") == 0 and "Traceback" not in err, err
    for w in words:
        assert w in err, f"'{w}' not in: {err}"


def test_pngfile_without_pillow_or_matplotlib_writes_nothing(tmp_path):
    r = run_without(["PIL", "matplotlib"], GOOD + ["-pngfile", "preview.png"], tmp_path)
    assert_refused(r, "-pngfile", "Pillow or matplotlib", "pip install 'nanobragg-ext[png]'")
    assert list(tmp_path.iterdir()) == []  # not the four images, not a temporary file
    assert "max_I" not in r.stdout         # nothing was rendered


def test_pngfile_with_pillow_writes_the_preview(tmp_path):
    pytest.importorskip("PIL", reason="Pillow is in the [test] extra")
    r = run_without(["matplotlib"], GOOD + ["-pngfile", "preview.png"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "preview.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_mtz_without_gemmi_writes_nothing(tmp_path):
    (tmp_path / "data.mtz").write_bytes(b"MTZ placeholder: never read, gemmi is checked first")
    r = run_without(["gemmi"], GOOD + ["-hkl", "data.mtz"], tmp_path)
    assert_refused(r, "-hkl data.mtz", "gemmi", "pip install 'nanobragg-ext[mtz]'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.mtz"]  # no Fdump.bin, no images


def test_cif_without_gemmi_writes_nothing(tmp_path):
    (tmp_path / "data.cif").write_text("data_x\n")
    r = run_without(["gemmi"], GOOD + ["-hkl", "data.cif"], tmp_path)
    assert_refused(r, "gemmi", "nanobragg-ext[mtz]")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.cif"]


def test_hkl_subcommand_without_gemmi_writes_nothing(tmp_path):
    (tmp_path / "data.mtz").write_bytes(b"never read")
    r = run_without(["gemmi"], ["hkl", "data.mtz", "P1.hkl"], tmp_path)
    assert_refused(r, "nanobragg-ext hkl", "nanobragg-ext[mtz]")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.mtz"]


def test_require_extra_takes_the_first_importable_alternative(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)  # None in sys.modules: import raises ImportError
    assert extras.require_extra(("PIL", "numpy"), "png", "x") is np


def test_a_cached_submodule_of_a_missing_package_does_not_count(monkeypatch):
    import PIL.Image  # noqa: F401 -- cached in sys.modules, as after an earlier PNG

    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(extras.MissingExtra, match="Pillow or matplotlib"):
        extras.require_extra(("PIL.Image", "matplotlib"), "png", "-pngfile")


def test_require_extra_names_packages_and_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(extras.MissingExtra) as e:
        extras.require_extra(("PIL", "matplotlib"), "png", "-pngfile")
    assert str(e.value) == ("-pngfile needs Pillow or matplotlib, which is not installed: "
                            "pip install 'nanobragg-ext[png]'")
    assert isinstance(e.value, ImportError)  # callers catching ImportError still do


def test_api_reflection_reader_without_gemmi_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "gemmi", None)
    with pytest.raises(extras.MissingExtra, match=r"nanobragg-ext\[mtz\]"):
        sf.read_reflections(str(tmp_path / "x.mtz"))

