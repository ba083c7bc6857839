"""Properties over random input (hypothesis), the no-silent-garbage policy of README's error section:
any command line gives either a valid run (a finite, non-negative image) or a clean error (one
line on stderr, exit status 2, nothing written), never a traceback, a crash or a hang; every file
reader given random or truncated bytes returns good values or raises InputError; and the typed
configs refuse exactly what the command line refuses. Derandomized, so CI runs are repeatable."""
import math
import os
import struct
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nanobragg_ext import _core, api
from nanobragg_ext import io as nbio
from nanobragg_ext.config import SimulationConfig
from nanobragg_ext.options import KNOWN_SPELLINGS

SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])
# A small detector, a crystal and structure factors, so most command lines get as far as a render.
BASE = ["-detpixels", "4", "-cell", "40", "50", "60", "90", "95", "100", "-default_F", "10", "-seed", "1",
        "-noprogress"]
RUN_TIMEOUT = 60  # seconds: far beyond any of these runs (tiny detectors), so a timeout is a hang

HOSTILE = ["nan", "-nan", "inf", "-inf", "1e309", "1e308", "-1e308", "1e-320", "0", "-0", "-1", "", "abc",
           "1.5.2", "--", "-", "2147483648", "99999999999999999999", "random", "sample", "beam"]
# Counts stay small: a large pixel or step count is slow work, not an error (README), and would
# only make this test long.
small_ints = st.integers(-3, 9).map(str)
moderate = st.floats(-1e3, 1e3, allow_nan=False).map(lambda x: repr(round(x, 3)))
values = st.one_of(st.sampled_from(HOSTILE), small_ints, moderate,
                   st.sampled_from(["in.hkl", "in.mat", "in.img", "in.src", "missing.hkl", "out.bin", "nodir/x"]))
options = st.sampled_from([s for s in KNOWN_SPELLINGS if s not in ("-threads", "-device")])
# One option and 0-6 following tokens; -threads only with small counts (a thread per core).
groups = st.one_of(st.tuples(options, st.lists(values, max_size=6)).map(lambda g: [g[0], *g[1]]),
                   st.tuples(st.just("-threads"), st.sampled_from(["1", "2", "0", "-1", "nan"])).map(list))
argv_lists = st.lists(groups, max_size=5).map(lambda gs: [t for g in gs for t in g])
file_bytes = st.one_of(st.binary(max_size=600),
                       st.sampled_from([b"0 0 0 10\n1 0 0 5\n", b"1 0 0 nan\n", b"0 0 0\n", b"-1 -1 -1 1e400\n"]))


def _cli(argv, cwd):
    return subprocess.run([sys.executable, "-m", "nanobragg_ext.cli", *argv], cwd=cwd, capture_output=True,
                          text=True, timeout=RUN_TIMEOUT)


def _outputs(folder):
    return sorted(p.name for p in folder.iterdir() if p.name not in INPUTS)


INPUTS = ("in.hkl", "in.mat", "in.img", "in.src", "Fdump.bin")


def assert_valid_run_or_clean_error(r, folder):
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode in (0, 2, 9), f"exit status {r.returncode}: {r.stderr[-500:]}"
    if r.returncode == 0:
        img = np.fromfile(folder / _float_name(r.args), dtype="<f4")
        assert img.size > 0 and np.all(np.isfinite(img)), "a run wrote a non-finite image"
        assert np.all(img >= 0), "a run wrote negative photons"
    else:
        err = r.stderr.strip()
        assert err.startswith("nanobragg-ext: error:"), err
        if r.returncode == 2:
            assert "\n" not in err, f"more than one line:\n{err}"
        assert not _outputs(folder), f"an error left files: {_outputs(folder)}"


def _float_name(args):
    name = "floatimage.bin"
    for i, tok in enumerate(args[:-1]):
        if tok.startswith("-") and ("-floatfile" in tok or "-floatimage" in tok):
            name = args[i + 1]
    return name


@settings(max_examples=120, **SETTINGS)
@given(argv=argv_lists, hkl=file_bytes, mat=file_bytes, smv=file_bytes)
def test_any_command_line_runs_or_fails_cleanly(argv, hkl, mat, smv, tmp_path_factory):
    folder = tmp_path_factory.mktemp("argv")
    (folder / "in.hkl").write_bytes(hkl)
    (folder / "in.mat").write_bytes(mat)
    (folder / "in.img").write_bytes(smv)
    (folder / "in.src").write_bytes(mat)
    r = _cli(BASE + argv, folder)
    assert_valid_run_or_clean_error(r, folder)


# ---------------------------------------------------------------------------------------------
# file readers

def _smv(width=4, height=3, fields=None):
    head = {"HEADER_BYTES": 512, "DIM": 2, "BYTE_ORDER": "little_endian", "TYPE": "unsigned_short",
            "SIZE1": width, "SIZE2": height, "PIXEL_SIZE": 0.1, "DISTANCE": 100}
    head.update(fields or {})
    text = ("{\n" + "".join(f"{k}={v};\n" for k, v in head.items()) + "}\n").encode().ljust(512, b" ")
    return text + struct.pack(f"<{width * height}H", *range(width * height))


VALID = {
    "hkl": b"0 0 0 10\n1 0 0 5.5\n0 1 0 3\n-1 2 -3 7\n",
    "fdump": None,  # written by the native writer below
    "matrix": b"0.01 0.002 0.0\n0.0 0.012 0.001\n0.0 0.0 0.014\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n",
    "source": b"-10 0 0 1 1e-10\n-10 0.01 0 1 1.1e-10\n",
    "smv": _smv(),
}


def _valid_fdump(tmp):
    path = str(tmp / "valid.fdump")
    _core.write_fdump(path, _core.read_hkl(_write(tmp / "v.hkl", VALID["hkl"]), 0.0))
    return open(path, "rb").read()


def _write(path, data):
    path.write_bytes(data)
    return str(path)


def _check_hkl(path):
    t = nbio.read_hkl(path)
    assert t.values is None or np.all(np.isfinite(t.values))


def _check_fdump(path):
    t = nbio.read_fdump(path)
    assert t.values is None or np.all(np.isfinite(t.values))


def _check_matrix(path):
    assert all(math.isfinite(x) for x in nbio.read_matrix(path))


def _check_source(path):
    for column in nbio.read_sourcefile_columns(path):
        assert not any(math.isinf(x) for x in column)  # NaN marks a missing column


def _check_smv(path):
    img = nbio.read_smv(path)
    assert img.width > 0 and img.height > 0
    assert len(img.pixels) == 2 * img.width * img.height


READERS = {"hkl": _check_hkl, "fdump": _check_fdump, "matrix": _check_matrix, "source": _check_source,
           "smv": _check_smv}


def _mutations(valid):
    """Random bytes, or the valid file truncated, with bytes overwritten, or with bytes appended."""
    n = len(valid)
    return st.one_of(
        st.binary(max_size=2 * n + 16),
        st.integers(0, n).map(lambda k: valid[:k]),
        st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, 255)), min_size=1, max_size=6).map(
            lambda edits: _edit(valid, edits)),
        st.binary(min_size=1, max_size=64).map(lambda tail: valid + tail))


def _edit(data, edits):
    b = bytearray(data)
    for i, v in edits:
        b[i] = v
    return bytes(b)


@pytest.mark.parametrize("kind", sorted(READERS))
def test_reader_refuses_bad_bytes_cleanly(kind, tmp_path):
    valid = VALID[kind] if VALID[kind] is not None else _valid_fdump(tmp_path)
    READERS[kind](_write(tmp_path / "valid", valid))  # the valid file itself reads

    @settings(max_examples=150, **SETTINGS)
    @given(data=_mutations(valid))
    def check(data):
        path = _write(tmp_path / "input", data)
        try:
            READERS[kind](path)
        except nbio.InputError as e:
            assert str(e) and "\n" not in str(e)

    check()


# ---------------------------------------------------------------------------------------------
# configs refuse what the command line refuses

NUMERIC = ["-distance", "-close_distance", "-pixel", "-detpixels", "-lambda", "-energy", "-fluence", "-flux",
           "-exposure", "-beamsize", "-mosaic", "-mosaic_dom", "-N", "-oversample", "-phi", "-osc", "-phisteps",
           "-polar", "-water", "-dmin", "-default_F", "-twotheta", "-detector_rotx", "-Xbeam", "-dispersion",
           "-dispsteps", "-divergence", "-divsteps", "-detector_thick", "-detector_abs", "-thicksteps",
           "-samplesize", "-fudge", "-roi", "-misset", "-cell", "-beam_vector", "-spindle_axis", "-polar_vector",
           "-fdet_vector"]
VALUE_COUNT = {"-roi": 4, "-misset": 3, "-cell": 6, "-beam_vector": 3, "-spindle_axis": 3, "-polar_vector": 3,
               "-fdet_vector": 3}
numbers = st.one_of(st.sampled_from(["nan", "inf", "-inf", "1e308", "-1e308", "0", "-0", "-1", "-5", "1e-320"]),
                    small_ints, moderate)


@settings(max_examples=120, **SETTINGS)
@given(option=st.sampled_from(NUMERIC), data=st.data())
def test_configs_refuse_what_the_command_line_refuses(option, data, tmp_path_factory):
    count = VALUE_COUNT.get(option, 1)
    vals = data.draw(st.lists(numbers, min_size=count, max_size=count))
    argv = BASE + [option, *vals]
    folder = tmp_path_factory.mktemp("cfg")
    r = _cli(argv, folder)
    assert "Traceback" not in r.stderr, r.stderr
    cli_refuses = r.returncode == 2
    try:
        api.simulate(SimulationConfig.from_cli_args(argv))
        api_refuses = False
    except ValueError as e:  # OptionError and InputError are ValueErrors
        api_refuses = True
        assert str(e)
    assert api_refuses == cli_refuses, (f"{option} {vals}: the CLI {'refuses' if cli_refuses else 'accepts'} "
                                        f"({r.stderr.strip()}), the API {'refuses' if api_refuses else 'accepts'}")


def test_readers_run_on_their_valid_files(tmp_path):
    """The valid files the mutations start from read back as written (so mutations test something)."""
    t = nbio.read_hkl(_write(tmp_path / "a.hkl", VALID["hkl"]))
    assert t.bounds == (-1, 1, 0, 2, -3, 0) and t.hkls == 4
    img = nbio.read_smv(_write(tmp_path / "a.img", VALID["smv"]))
    assert (img.width, img.height) == (4, 3)
    assert len(nbio.read_sourcefile_columns(_write(tmp_path / "a.src", VALID["source"]))[1]) == 2
    assert os.path.getsize(tmp_path / "a.img") == 512 + 24
