"""The package's front door: ``import nanobragg_ext as nb`` gives simulate, Simulator, the config
classes, readers and writers lazily (PEP 562), and help(nb) shows a first example that runs."""
import doctest
import pydoc
import subprocess
import sys

import pytest

import nanobragg_ext as nb
from nanobragg_ext import api, config
from nanobragg_ext import io as nbio


def test_names_resolve_to_their_modules():
    assert nb.simulate is api.simulate and nb.Simulator is api.Simulator
    assert nb.write_smv is api.write_smv and nb.add_noise is api.add_noise
    assert nb.SimulationConfig is config.SimulationConfig and nb.CrystalConfig is config.CrystalConfig
    assert nb.read_hkl is nbio.read_hkl and nb.read_smv is nbio.read_smv
    for name in nb.__all__:
        assert getattr(nb, name) is not None and name in dir(nb), name
    assert nb.info.__name__ == "nanobragg_ext.info"  # submodules too
    with pytest.raises(AttributeError, match="no attribute 'simulat'"):
        nb.simulat


def test_import_is_lazy_until_a_name_is_used():
    code = ("import sys, nanobragg_ext as nb\n"
            "heavy = ('nanobragg_ext.api', 'nanobragg_ext.config', 'numpy')\n"
            "assert not [m for m in heavy if m in sys.modules], [m for m in heavy if m in sys.modules]\n"
            "nb.simulate\n"
            "assert 'nanobragg_ext.api' in sys.modules\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_the_module_docstring_example_runs():
    result = doctest.testmod(nb, verbose=False)
    assert result.attempted >= 3 and result.failed == 0


def test_help_leads_somewhere():
    text = pydoc.render_doc(nb, renderer=pydoc.plaintext)
    for words in ("nb.simulate(cfg)", "help(nb.Simulator)", "examples/P1.hkl", "README", "nanobragg-ext -h"):
        assert words in text, words
    for name in ("simulate", "Simulator"):
        assert "Examples" in getattr(nb, name).__doc__
