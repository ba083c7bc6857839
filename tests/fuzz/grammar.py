"""Random nanoBragg command lines: every option of nanoBragg.c with sane, edge and hostile values,
truncated lists, and input files (HKL, Fdump, matrix, source, S(Q), SMV) valid, truncated or
random bytes. A case is a pure function of its number, so any case can be run again alone."""
from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Tuple


@dataclass
class Case:
    """One command line and the files it reads (written into an empty folder before the run)."""

    number: int
    argv: List[str]
    files: Dict[str, bytes] = field(default_factory=dict)


# Tokens that break number parsing, ranges or the option scan.
HOSTILE_NUMBERS = ["nan", "NaN", "inf", "-inf", "1e309", "-1e309", "1e308", "-1e308", "1e-320", "0", "-0", "-1",
                   "abc", "", "1.5.2", "0x10", " 5", "1e", "+", "-", "--", "2147483648", "-2147483649",
                   "99999999999999999999", "1,5", "5abc"]
HOSTILE_NAMES = ["", "-", "-x", ".", "..", "missing_dir/out.bin", "/", "a" * 300]


def _real(lo: float, hi: float) -> Callable[[random.Random], str]:
    return lambda r: repr(round(r.uniform(lo, hi), r.choice([0, 1, 3, 6])))


def _count(lo: int, hi: int) -> Callable[[random.Random], str]:
    return lambda r: str(r.randint(lo, hi))


def _unit_vector(r: random.Random) -> List[str]:
    v = [r.gauss(0, 1) for _ in range(3)]
    if r.random() < 0.5:  # the axes themselves, as conventions use them
        v = [0.0, 0.0, 0.0]
        v[r.randrange(3)] = r.choice([1.0, -1.0])
    return [repr(round(x, 4)) for x in v]


# (spellings, number of values, value maker) for every handler of nanoBragg.c (L505-L1116) and the
# -img/-mask pre-scan. A value maker returns the sane values; edge and hostile ones are mixed in.
REAL = "real"
OPTIONS: List[Tuple[Tuple[str, ...], int, object]] = [
    (("-Na", "-Nb", "-Nc", "-N"), 1, _count(1, 8)),
    (("-cell",), 6, lambda r: [_real(20, 90)(r) for _ in range(3)] + [_real(60, 120)(r) for _ in range(3)]),
    (("-misset",), 3, lambda r: ["random"] if r.random() < 0.2 else [_real(-180, 180)(r) for _ in range(3)]),
    (("-samplesize", "-sample_size", "-sample_thick", "-sample_x", "-sample_width", "-sample_y", "-width",
      "-sample_heigh", "-sample_z", "-heigh", "-xtalsize", "-xtal_size", "-xtal_thick", "-xtal_x", "-xtal_width",
      "-xtal_y", "-xtal_heigh", "-xtal_z"), 1, _real(0.01, 0.5)),  # larger crystals: fine spots, slow
    (("-density", "-sample_den"), 1, _real(0.5, 2)),
    (("-MW",), 1, _real(1000, 1e5)),
    (("-molec",), 1, _real(1, 100)),
    (("-Xbeam", "-Ybeam", "-Xclose", "-Yclose"), 1, _real(0, 2)),
    (("-ORGX", "-ORGY"), 1, _real(0, 20)),
    (("-pivot",), 1, lambda r: r.choice(["sample", "beam", "other"])),
    (("-mosflm", "-xds", "-adxv", "-denzo", "-dials", "-curved_det", "-point_pixel", "-nopolar",
      "-oversample_thick", "-oversample_polar", "-oversample_omega", "-round_div", "-square_div", "-coherent",
      "-printout", "-noprogress", "-progress", "-interpolate", "-nointerpolate", "-round_xtal", "-square_xtal",
      "-gauss_xtal", "-binary_spots", "-tophat_spots", "-nonoise", "-nopgm"), 0, None),
    (("-fdet_vector", "-sdet_vector", "-odet_vector", "-beam_vector", "-polar_vector", "-spindle_axis",
      "-twotheta_axis", "-pix0_vector"), 3, _unit_vector),
    (("-distance", "-close_distance"), 1, _real(20, 200)),
    (("-detector_abs",), 1, lambda r: r.choice(["inf", _real(10, 1000)(r)])),
    (("-detector_thick",), 1, _real(10, 500)),
    (("-detector_thicksteps", "-thicksteps"), 1, _count(1, 3)),
    (("-twotheta",), 1, _real(-30, 30)),
    (("-detector_rotx", "-detector_roty", "-detector_rotz"), 1, _real(-10, 10)),
    (("-detsize", "-detsize_f", "-detsize_s"), 1, _real(0.5, 2.5)),
    (("-detpixels", "-detpixels_f", "-detpixels_s", "-detpixels_x", "-detpixels_y"), 1, _count(2, 20)),
    (("-pixel",), 1, _real(0.05, 0.2)),
    (("-polar",), 1, _real(0, 1)),
    (("-oversample",), 1, _count(1, 3)),
    (("-roi",), 4, lambda r: [str(r.randint(0, 20)) for _ in range(4)]),
    (("-lambda", "-wave", "-wavelength"), 1, _real(0.5, 2)),
    (("-energy",), 1, _real(6000, 20000)),
    (("-fluence",), 1, _real(1e20, 1e24)),
    (("-flux",), 1, _real(1e10, 1e14)),
    (("-exposure",), 1, _real(0.1, 10)),
    (("-beamsize",), 1, _real(0.01, 1)),
    (("-mosaic", "-mosaici", "-mosaic_spread"), 1, _real(0, 2)),
    (("-mosaic_dom", "-mosaic_domains"), 1, _count(1, 5)),
    (("-dispersion",), 1, _real(0, 5)),
    (("-dispsteps",), 1, _count(1, 4)),
    (("-divergence", "-hdivrange", "-vdivrange"), 1, _real(0, 1)),
    (("-hdivstep", "-vdivstep"), 1, _real(0.01, 0.5)),
    (("-hdivsteps", "-vdivsteps", "-divsteps"), 1, _count(1, 3)),
    (("-adc",), 1, _real(0, 100)),
    (("-phi",), 1, _real(-180, 180)),
    (("-osc",), 1, _real(0, 2)),
    (("-phistep",), 1, _real(0, 1)),
    (("-phisteps",), 1, _count(1, 4)),
    (("-dmin",), 1, _real(1, 10)),
    (("-default_F",), 1, _real(0, 1000)),
    (("-scale", "-pgmscale"), 1, _real(0, 10)),
    (("-fudge",), 1, _real(0.5, 2)),
    (("-printout_pixel",), 2, lambda r: [str(r.randint(0, 10)), str(r.randint(0, 10))]),
    (("-seed", "-mosaic_seed", "-misset_seed"), 1, _count(-100000, 100000)),
    (("-water",), 1, _real(0, 100)),
    # files read
    (("-mat",), 1, "mat"),
    (("-hkl",), 1, "hkl"),
    (("-dump",), 1, "fdump"),
    (("-img", "-mask"), 1, "smv"),
    (("-stol", "-4stol", "-Q"), 1, "stol"),
    (("-sourcefile",), 1, "source"),
    # files written
    (("-stolout", "-floatfile", "-floatimage", "-intfile", "-intimage", "-pgmfile", "-pgmimage", "-noisefile",
      "-noiseimage"), 1, "out"),
]

FLOAT_SPELLINGS = ("-floatfile", "-floatimage")


# ---------------------------------------------------------------------------------------------
# input files

def hkl_text(r: random.Random) -> bytes:
    lines = []
    for _ in range(r.randint(1, 40)):
        h, k, l = (r.randint(-4, 4) for _ in range(3))
        lines.append(f"{h} {k} {l} {r.uniform(0, 1000):.2f}")
    return ("\n".join(lines) + "\n").encode()


def fdump_bytes(r: random.Random) -> bytes:
    b = [r.randint(-3, 0), r.randint(0, 3), r.randint(-3, 0), r.randint(0, 3), r.randint(-3, 0), r.randint(0, 3)]
    n = (b[1] - b[0] + 2) * (b[3] - b[2] + 2) * (b[5] - b[4] + 2)
    head = ("%d %d %d %d %d %d\n\f" % tuple(b)).encode()
    return head + struct.pack(f"<{n}d", *(r.uniform(0, 500) for _ in range(n)))


def matrix_text(r: random.Random) -> bytes:
    # Reciprocal vectors in the MOSFLM layout (columns a*, b*, c* times the wavelength), then the
    # missetting and cell lines the C ignores.
    rows = [[r.uniform(-0.04, 0.04) for _ in range(3)] for _ in range(3)]
    for i in range(3):
        rows[i][i] = r.choice([1, -1]) * r.uniform(0.01, 0.05)
    text = "\n".join(" ".join(f"{x:12.8f}" for x in row) for row in rows)
    return (text + "\n 0.000 0.000 0.000\n 1 0 0\n 0 1 0\n 0 0 1\n 50 50 50 90 90 90\n 0 0 0\n").encode()


def source_text(r: random.Random) -> bytes:
    lines = []
    for _ in range(r.randint(1, 5)):
        cols = [r.uniform(-10, -1), r.uniform(-0.01, 0.01), r.uniform(-0.01, 0.01), r.uniform(0.5, 2),
                r.uniform(0.9e-10, 1.1e-10)]
        lines.append(" ".join(f"{x:g}" for x in cols[:r.randint(1, 5)]))
    return ("\n".join(lines) + "\n").encode()


def stol_text(r: random.Random) -> bytes:
    return "".join(f"{0.05 * i:g} {r.uniform(0, 3):g}\n" for i in range(r.randint(1, 12))).encode()


def smv_bytes(r: random.Random) -> bytes:
    w, h = r.randint(2, 16), r.randint(2, 16)
    fields = {"HEADER_BYTES": 512, "DIM": 2, "BYTE_ORDER": "little_endian", "TYPE": "unsigned_short",
              "SIZE1": w, "SIZE2": h, "PIXEL_SIZE": round(r.uniform(0.05, 0.2), 3),
              "DISTANCE": round(r.uniform(20, 200), 1), "WAVELENGTH": round(r.uniform(0.5, 2), 3),
              "BEAM_CENTER_X": round(r.uniform(0, 2), 2), "BEAM_CENTER_Y": round(r.uniform(0, 2), 2)}
    for key in r.sample(sorted(fields), r.randint(0, 3)):  # some keys missing or odd
        if key not in ("HEADER_BYTES",):
            fields[key] = r.choice(["", "nan", "-5", "1e9", "abc", 0])
    head = "{\n" + "".join(f"{k}={v};\n" for k, v in fields.items()) + "}\n"
    head = head.encode().ljust(512, b" ")[:512]
    pixels = struct.pack(f"<{w * h}H", *(r.choice([0, 1, 1, 1, 7]) for _ in range(w * h)))
    return head + pixels


VALID_FILE = {"hkl": hkl_text, "fdump": fdump_bytes, "mat": matrix_text, "source": source_text, "stol": stol_text,
              "smv": smv_bytes}


def file_bytes(kind: str, r: random.Random) -> bytes:
    """A valid file of this kind (most of the time), or one truncated, corrupted or random."""
    data = VALID_FILE[kind](r)
    roll = r.random()
    if roll < 0.65:
        return data
    if roll < 0.78:
        return data[:r.randrange(len(data) + 1)]
    if roll < 0.86:
        b = bytearray(data)
        for _ in range(r.randint(1, 8)):
            b[r.randrange(len(b))] = r.randrange(256)
        return bytes(b)
    if roll < 0.90:
        return data.replace(b"1", b"nan", 1) if r.random() < 0.5 else data.replace(b"0", b"inf", 1)
    if roll < 0.93:
        return b""
    return bytes(r.randrange(256) for _ in range(r.randint(1, 2000)))


# ---------------------------------------------------------------------------------------------
# command lines

def _values(r: random.Random, nvalues: int, maker, case: Case) -> List[str]:
    if nvalues == 0:
        return []
    if isinstance(maker, str):  # a file
        if maker == "out":
            if r.random() < 0.8:
                return [f"out{r.randrange(100)}.bin"]
            return [r.choice(HOSTILE_NAMES + sorted(case.files) or HOSTILE_NAMES)]
        roll = r.random()
        if roll < 0.85:
            name = f"{maker}{len(case.files)}.{maker}"
            case.files[name] = file_bytes(maker, r)
            return [name]
        return [r.choice(["missing." + maker] + HOSTILE_NAMES)]
    sane = maker(r)
    sane = sane if isinstance(sane, list) else [sane]
    roll = r.random()
    if roll < 0.75:
        return sane
    out = list(sane)
    i = r.randrange(len(out))
    if roll < 0.9:  # an edge value: zero, negative, tiny or huge
        x = r.choice([0.0, -0.0, 1e-300, 1e300, 1e308, -1.0, 1.0, 2.0**31, -2.0**31])
        out[i] = r.choice([repr(x), "-" + out[i] if not out[i].startswith("-") else out[i][1:], "0", str(int(x))
                           if abs(x) < 1e20 else repr(x)])
    else:
        out[i] = r.choice(HOSTILE_NUMBERS)
    return out


def _base(r: random.Random, case: Case) -> List[str]:
    """A small detector, a crystal and structure factors most of the time, so most cases render."""
    base = ["-detpixels", str(r.randint(2, 16)), "-seed", str(r.randint(1, 10 ** 6))]
    roll = r.random()
    if roll < 0.6:
        base += ["-cell"] + [f"{r.uniform(20, 90):.2f}" for _ in range(3)] + [f"{r.uniform(60, 120):.2f}"
                                                                              for _ in range(3)]
    elif roll < 0.85:
        case.files["A.mat"] = file_bytes("mat", r) if r.random() < 0.3 else matrix_text(r)
        base += ["-mat", "A.mat"]
    roll = r.random()
    if roll < 0.45:
        base += ["-default_F", f"{r.uniform(1, 500):.1f}"]
    elif roll < 0.85:
        case.files["F.hkl"] = file_bytes("hkl", r) if r.random() < 0.3 else hkl_text(r)
        base += ["-hkl", "F.hkl"]
    elif roll < 0.93:
        case.files["Fdump.bin"] = file_bytes("fdump", r)  # read when there is no -hkl
    if r.random() < 0.5:
        base += ["-distance", f"{r.uniform(20, 120):.1f}"]
    return base


def make_case(number: int) -> Case:
    """Case `number`: a base (small detector, crystal, F) then 0-8 random options, shuffled."""
    r = random.Random(number)
    case = Case(number, [])
    groups = [_base(r, case)]
    for _ in range(r.choice([0, 1, 2, 3, 4, 5, 6, 8])):
        names, nvalues, maker = r.choice(OPTIONS)
        group = [r.choice(names)] + _values(r, nvalues, maker, case)
        if group[1:2] == ["random"]:  # a random misset needs a fixed seed to compare runs
            group += ["-misset_seed", str(r.randint(1, 1000))]
        groups.append(group)
    if r.random() < 0.05:
        groups.append([r.choice(["-unknown_option", "-distnce", "12", "stray"])])
    first, rest = groups[0], groups[1:]
    r.shuffle(rest)
    argv = first + [t for g in rest for t in g]
    if r.random() < 0.1:  # a truncated list: the last option may lose its values
        argv = argv[:r.randint(len(first), len(argv))]
    case.argv = argv
    return case


def float_file(argv: List[str]) -> str:
    """The float image's name as the C's scan finds it (substring match, a following token)."""
    name = "floatimage.bin"
    for i, tok in enumerate(argv[:-1]):
        if tok.startswith("-") and any(s in tok for s in FLOAT_SPELLINGS):
            name = argv[i + 1]
    return name


def option_groups(argv: List[str]) -> List[List[str]]:
    """argv cut before every token that starts with '-' and is not a number (for reduction)."""
    groups: List[List[str]] = []
    for tok in argv:
        if tok.startswith("-") and not _is_number(tok) or not groups:
            groups.append([tok])
        else:
            groups[-1].append(tok)
    return groups


def _is_number(tok: str) -> bool:
    try:
        float(tok)
        return True
    except ValueError:
        return False


def option_names(argv: List[str]) -> List[str]:
    return sorted({g[0] for g in option_groups(argv) if g[0].startswith("-")})
