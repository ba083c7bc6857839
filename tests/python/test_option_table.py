"""The option table (option_table.py): every command-line option maps to its config field and back,
every field is reachable, and the table is complete enough to document itself."""
import math
import pathlib
import subprocess
import sys

import pytest

from nanobragg_ext import option_table as table
from nanobragg_ext import options_doc
from nanobragg_ext.config import SimulationConfig, options_diff
from nanobragg_ext.options import parse_args

BASE = "-N 2 -cell 60 61 62 91 92 93 -default_F 10 -detpixels 16 -seed 1 -misset_seed 2 -noprogress".split()
# Options that state a default are tried after the option that changes it.
BEFORE = {"-mosflm": ["-xds"], "-round_div": ["-square_div"], "-square_xtal": ["-round_xtal"]}
MASK = (b"{\nHEADER_BYTES=512;\nDIM=2;\nBYTE_ORDER=little_endian;\nTYPE=unsigned_short;\nSIZE1=16;\nSIZE2=16;\n"
        b"PIXEL_SIZE=0.2;\nDISTANCE=80;\n}\f").ljust(512, b" ") + b"\1\0" * 256


def sample_values(opt):
    """Values for one option, inside its fields' valid ranges and unlike their defaults."""
    if opt.action == "misset_random":
        return ["random"]
    if opt.action == "pivot":
        return ["sample"]
    if opt.action == "detector_abs":
        return ["250"]
    if opt.action == "energy":
        return ["9000"]
    if opt.action == "roi":
        return ["1", "10", "2", "12"]
    if opt.action == "cell":
        return ["70", "71", "72", "89", "88", "87"]
    field = opt.fields()[0]
    kind = opt.kind or field.kind
    if field.kind == "text":
        return ["some.file"]
    if field.kind == "choice":
        return [next(w for w in field.choices if w != field.default)]
    if field.kind == "vec3":
        return ["0.6", "0.1", "0.8"]  # positive: also valid for -two_colour (energies and a weight)
    if kind in ("int", "seed", "n_cells"):
        return [str(max(3, 1 + (field.range.lo or 0)))] * opt.values
    lo, hi = field.range.lo, field.range.hi
    x = 0.37 if hi is not None and hi <= 1 else 2.5
    return [repr(x if lo is None or x > lo else lo + 1.5)] * opt.values


ROUND_TRIP = [(opt, name) for opt in table.ALL_OPTIONS if opt.sets for name in opt.names
              if not (opt.action == "misset_angles" and name == "-misset_seed")]


@pytest.mark.parametrize("opt, name", ROUND_TRIP, ids=[f"{o.names[0]}:{n}" for o, n in ROUND_TRIP])
def test_every_option_maps_to_config_and_back(opt, name, tmp_path, monkeypatch):
    """Each spelling changes the parsed run, the config holds the change, and to_cli_args states it so
    that it parses back to the same native Options and Request fields."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "some.file").write_bytes(MASK)
    before = BASE + BEFORE.get(name, [])
    base, req = parse_args(before), parse_args(before + [name] + (sample_values(opt) if opt.values else []))
    changed = options_diff(base.options, req.options) or any(
        getattr(base, f.native[4:]) != getattr(req, f.native[4:]) for f in opt.fields()
        if isinstance(f.native, str) and f.native.startswith("req."))
    assert changed, f"{name} changed nothing"
    cfg = SimulationConfig.from_request(req)
    back = parse_args(cfg.to_cli_args())
    assert options_diff(back.options, req.options, ignore_unused=True) == {}
    for f in table.FIELDS:
        if isinstance(f.native, str) and f.native.startswith("req."):
            assert getattr(back, f.native[4:]) == getattr(req, f.native[4:]), f.path
    assert SimulationConfig.from_cli_args(cfg.to_cli_args()) == cfg


def test_every_field_has_an_option_and_every_option_a_group_and_text():
    reachable = {s.partition(":")[0] for o in table.ALL_OPTIONS for s in o.sets}
    assert reachable == set(table.FIELD), set(table.FIELD) ^ reachable
    for o in table.ALL_OPTIONS:
        assert o.group in table.GROUPS, o
        assert o.doc, o
        assert (o.values == 0) == (not o.meta), o  # every value is named in the reference
    for f in table.FIELDS:
        assert f.help, f


# Config attributes that are no option of the table: the groups, the in-memory table, and the cell
# axes (they replace cell and misset; the run object takes them beside the Options).
NOT_OPTIONS = {"run": {"detector", "beam", "crystal", "sampling", "structure_factors"}, "crystal": {"orientation"}}


def test_config_classes_declare_exactly_the_table_fields():
    """Each table Field is one typed, documented attribute of its config class and each attribute is
    a Field: a new option's typed attribute and docstring line go into that class (config.py)."""
    import dataclasses

    from nanobragg_ext import config

    for group, name in config._CLASS_NAMES.items():
        cls = getattr(config, name)
        declared = {f.name for f in dataclasses.fields(cls)} - NOT_OPTIONS.get(group, set())
        in_table = {f.name for f in table.FIELDS if f.group == group}
        assert declared == in_table, (f"config.py {name}: add a typed attribute for each option_table Field "
                                      f"of group {group!r} (and nothing else)", declared ^ in_table)
        for f in in_table:
            assert f in cls.__doc__, f"config.py {name}: document {f} in the class docstring"


def test_config_defaults_are_the_tables():
    cfg = SimulationConfig()
    for f in table.FIELDS:
        group = cfg if f.group == "run" else getattr(cfg, f.group)
        assert getattr(group, f.name) == f.default, f.path


@pytest.mark.parametrize("field", [f for f in table.FIELDS if f.kind == "real" and f.unit is not table.PLAIN],
                         ids=lambda f: f.path)
def test_unit_conversions_invert_exactly(field):
    for x in (0.1, 1.0, 2.5, 120.01, 1e-3, 3.3):
        native = field.unit.to_native(x)
        assert field.unit.to_native(field.unit.from_native(native)) == native
        assert math.isclose(field.unit.from_native(native), x, rel_tol=1e-12)


def test_docs_options_md_is_the_generated_reference():
    """docs/options.md is `python -m nanobragg_ext.options_doc > docs/options.md`; rerun it after a change."""
    docs = pathlib.Path(__file__).resolve().parents[2] / "docs" / "options.md"
    assert docs.read_text() == options_doc.markdown_reference() + "\n"


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "nanobragg_ext.cli", *args], capture_output=True, text=True,
                          timeout=60)


def test_help_lists_every_option_and_spelling_with_units_and_defaults():
    r = run_cli("-h")
    assert r.returncode == 0 and r.stdout.startswith("usage")
    for opt in table.ALL_OPTIONS:
        for name in opt.names:
            assert name in r.stdout, name
    assert "-distance mm" in r.stdout and "default 100 mm; valid > 0" in r.stdout
    for group in table.GROUPS:
        assert options_doc.TITLES[group].upper() in r.stdout
    assert r.stdout.count("\n+ ") == len(table.EXTRA_OPTIONS) - 1  # -mask is read by the C's pre-scan too
    assert run_cli("--help").stdout == r.stdout and run_cli("help").stdout in r.stdout


def test_help_option_shows_every_entry_the_token_fires():
    r = run_cli("help", "-twotheta_axis")
    assert r.returncode == 0 and "-twotheta_axis x y z" in r.stdout and "-twotheta deg" in r.stdout
    assert "fires all 2" in r.stdout
    assert "-lambda | -wave A" in run_cli("help", "wavelength").stdout
    bad = run_cli("help", "-distanse")
    assert bad.returncode == 2 and "did you mean -distance" in bad.stderr


# Start-up cost of one-shot runs: modules the command line must not import (beyond what the
# interpreter's own start-up, e.g. a site .pth file, already did).
HEAVY = "('numpy', 'dataclasses', 'typing', 're')"


@pytest.mark.parametrize("args", [["-h"], ["help", "-N"]])
def test_help_imports_nothing_heavy(args):
    code = ("import sys; HEAVY = " + HEAVY + "; before = set(sys.modules); from nanobragg_ext.cli import main; main(%r); "
            "heavy = [m for m in HEAVY if m in set(sys.modules) - before]; assert not heavy, heavy" % (args,))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]


def test_a_render_imports_no_numpy_dataclasses_typing_or_re(tmp_path):
    code = ("import sys; HEAVY = " + HEAVY + "; before = set(sys.modules); from nanobragg_ext.cli import main; "
            "rc = main('-cell 60 60 60 90 90 90 -default_F 10 -N 2 -detpixels 8 -seed 1 -noprogress'.split()); "
            "heavy = [m for m in HEAVY if m in set(sys.modules) - before]; assert rc == 0 and not heavy, (rc, heavy)")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]


# Native Options fields that no config field sets directly: derived by prepare() or set by readers.
DERIVED_NATIVE = {"user_cell", "has_matrix", "matrix", "misset_mode", "dispstep", "detector_thickstep"}


def test_every_native_option_field_belongs_to_a_table_field():
    """A field added to Options (option_fields.def) needs its table entry too."""
    from nanobragg_ext.config import OPTION_FIELDS

    covered = set(DERIVED_NATIVE)
    for f in table.FIELDS:
        if isinstance(f.native, tuple):
            covered.update(f.native)
        elif not f.native.startswith("req."):
            covered.add(f.native)
    assert set(OPTION_FIELDS) == covered, set(OPTION_FIELDS) ^ covered
