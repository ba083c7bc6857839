"""The ``nanobragg-ext`` command: a drop-in for nanoBragg that takes the original options.

Every file is written atomically; bad input gives a one-line error naming the option or file
and exit status 2, with no output written; Ctrl-C stops a run within a second or two.
"""
from __future__ import annotations

import math
import os
import sys

# NumPy's OpenBLAS threads would busy-wait beside our OpenMP threads; we never call BLAS here.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

TYPE_CHECKING = False  # typing is left out: the command line starts faster
if TYPE_CHECKING:
    from typing import List, Optional

USAGE = """usage: nanobragg-ext -mat auto.mat -hkl Fs.hkl [options]   (the options of nanoBragg)
       nanobragg-ext -cell a b c alpha beta gamma -default_F F [options]
       nanobragg-ext demo   render the built-in default case (1024x1024 still of a cubic crystal)
       nanobragg-ext info   version, SIMD level, OpenMP threads, CUDA/GPU state, optional packages
       nanobragg-ext hkl IN.mtz OUT.hkl   a P1 HKL file (-hkl format) from MTZ/mmCIF (needs gemmi)
       nanobragg-ext nonbragg -stol water [options]   amorphous scattering (the options of nonBragg)
       nanobragg-ext noisify <noisify's options>   detector effects (PSF, noise, gain, adc) on a float image
       nanobragg-ext dataset <options> --sweep START WIDTH FRAMES | --stills N --seed S  --out file.h5
                            a whole dataset to NeXus/NXmx HDF5 (see nanobragg-ext dataset -h)
       nanobragg-ext help [OPTION]   the option reference (every option, units, defaults; also -h)"""

DEMO_ARGS = ["-cell", "100", "100", "100", "90", "90", "90", "-default_F", "100", "-N", "5",
             "-lambda", "1.0", "-distance", "100", "-detpixels", "1024", "-pixel", "0.1",
             "-misset", "10", "20", "30", "-seed", "1", "-noprogress"]


def _render_with_progress(sim, req):
    """Render sim in this (main) thread with Ctrl-C caught by the native code; a helper thread draws
    the progress bar. Returns (image, stats); raises KeyboardInterrupt when cancelled."""
    from . import _core

    controls = _core.RenderControls()
    bar = drawer = None
    if req.progress and req.device == "cpu" and sys.stdout.isatty():
        try:
            from tqdm import tqdm
            g = sim.prepared.geometry
            bar = tqdm(total=g["fpixels"] * g["spixels"], unit="px", unit_scale=True, leave=False)
        except ImportError:
            bar = None
    if bar is not None:
        import threading  # only with a progress bar: it costs a few ms of start-up

        done = threading.Event()

        def draw():
            while not done.wait(0.2):
                bar.n = controls.progress
                bar.refresh()

        drawer = threading.Thread(target=draw, daemon=True)
        drawer.start()
    try:
        if req.device == "cpu":
            image, stats = sim.render_image32(req.precision, req.threads, True, controls)
        else:  # the GPU renders to its end (no progress, no Ctrl-C), copies the image back once
            import numpy as np

            from . import api

            device = api.device_simulator(sim, req.precision) if api.resolve_backend(req.device) == "cuda" else None
            g = sim.prepared.geometry
            image = np.empty((g["spixels"], g["fpixels"]), dtype=np.float32)
            stats = api.render(sim, image, req.precision, req.threads, controls, True, device=device)
            image = _core.Image32.from_array(image)
    finally:
        if drawer is not None:
            done.set()
            drawer.join()
            bar.close()
    if stats["cancelled"]:
        raise KeyboardInterrupt
    return image, stats


def run(argv: List[str], out=None) -> int:
    from . import pipeline
    from .options import parse_args

    from . import preflight

    out = sys.stdout if out is None else out
    if any(a in ("-geom", "-expt", "-detector", "-write_geom", "-write_expt") for a in argv):
        from .detector import cli as detector_cli  # multi-panel detectors (detector/cli.py)

        return detector_cli.run(*detector_cli.split_args(argv), out)
    req = parse_args(argv)
    from .extras import check_request

    check_request(req)  # a missing optional package stops the run before anything is written
    plan = preflight.check(req)  # output folders and geometry, before anything is read or written
    messages: list = []
    table, sources, spectrum = pipeline.read_inputs(req, messages)
    if plan is not None:  # before the set-up, which itself takes long with huge step counts
        n_sources = preflight.planned_sources(plan, sources[2], 0 if spectrum is None else len(spectrum))
        preflight.check_tables(plan, n_sources)
        pipeline.check_memory(plan)
        note = preflight.long_run_note(plan, req, n_sources)
        if note:
            print(note, file=sys.stderr)
    sim = pipeline.build_simulator(req, table, sources, spectrum)
    prepared = sim.prepared
    pipeline.check_memory(prepared)
    s = prepared.sampling
    from .console import summary_lines

    print("\n".join(summary_lines(prepared, req, messages)), file=out)

    image, stats = _render_with_progress(sim, req)
    if req.printout:
        _print_traces(sim, req, stats, out)
    if stats["interpolation_switched_off"]:
        # Same wording as nanoBragg.c, for the first out-of-range evaluation in serial order (Q8).
        hkl = stats["switch_hkl"]
        hkl0 = tuple(math.ceil(x - 0.5) for x in hkl)
        print("WARNING: out of range for three point interpolation: h,k,l,h0,k0,l0: %g,%g,%g,%d,%d,%d " %
              (hkl + hkl0), file=out)
        print("WARNING: further warnings will not be printed! ", file=out)
    else:
        print("", file=out)  # the C ends its progress meter with a newline
    omega = stats["omega_sum"] / s["steps"]
    print(f"solid angle subtended by detector = {omega:g} steradian ( {100 * omega / 4 / 3.141592653589793:g}% sphere)",
          file=out)
    res = pipeline.write_outputs(image, sim, req)
    st = res["stats"]
    print(f"writing {req.floatfile} as {image.fpixels * image.spixels} 4-byte floats", file=out)
    # Same as nanoBragg.c: the position printed is that of the last sub-pixel of the brightest pixel.
    fmax, smax = (st["max_index"] % image.fpixels, st["max_index"] // image.fpixels) if st["max_index"] >= 0 else (0, 0)
    sub = prepared.geometry["pixel_size"] / s["oversample"]
    last = s["oversample"] - 1
    at_f = sub * (fmax * s["oversample"] + last) + sub / 2.0 if st["max_index"] >= 0 else 0.0
    at_s = sub * (smax * s["oversample"] + last) + sub / 2.0 if st["max_index"] >= 0 else 0.0
    print(f"max_I = {st['max_I']:g}  at {at_f:g} {at_s:g}", file=out)
    print(f"mean= {st['mean']:g} rms= {st['rms']:g} rmsd= {st['rmsd']:g}", file=out)
    print(f"intfile_scale = {res['int_scale']:g}", file=out)
    print(f"writing {req.intfile} as 2-byte integers", file=out)
    if req.write_pgm:
        print(f"pgm_scale = {res['pgm_scale']:g}", file=out)
        print(f"writing {req.pgmfile} as 1-byte integers", file=out)
    if req.write_noise:
        print(f"{res['photons']:.0f} photons on noise image ({res['overloads']} overloads)", file=out)
        print(f"writing {req.noisefile} as 2-byte integers", file=out)
    if req.pngfile:  # nanobragg-ext only: a log-scaled preview (needs Pillow or matplotlib)
        import numpy as np

        from .preview import write_png
        write_png(req.pngfile, np.asarray(image))
        print(f"writing {req.pngfile} as a log-scaled PNG preview", file=out)
    if req.nexusfile:
        print(f"writing {req.nexusfile} as NeXus/NXmx (float photons)", file=out)
    if req.crystfel_file:
        from .formats.crystfel_h5 import geom_path

        print(f"writing {req.crystfel_file} as CrystFEL HDF5 and {geom_path(req.crystfel_file)}", file=out)
    return 0


def _print_traces(sim, req, stats, out) -> None:
    """-printout: the last evaluation of one pixel (-printout_pixel f s) or of every rendered pixel
    in raster order (the C prints them in its threads' order)."""
    from .console import printout_lines

    prepared = sim.prepared
    g = prepared.geometry
    xmin, xmax, ymin, ymax = g["roi"]
    f_sel, s_sel = req.printout_pixel
    if f_sel >= 0:
        pixels = [(f_sel, s_sel)] if 0 <= f_sel < g["fpixels"] and 0 <= s_sel < g["spixels"] else []
    else:
        pixels = [(f, s) for s in range(max(ymin, 0), min(ymax, g["spixels"] - 1) + 1)
                  for f in range(max(xmin, 0), min(xmax, g["fpixels"] - 1) + 1)]
    first = None
    for f, s in pixels:
        if not sim.is_rendered(f, s):
            continue
        first = (f, s) if first is None else first
        trace = sim.trace_pixel(f, s, (f, s) == first and f_sel < 0, not stats["interpolation_switched_off"],
                                req.precision)
        print("\n".join(printout_lines(prepared, trace, f, s)), file=out)


def cmd_info(argv: List[str]) -> int:
    from .info import lines

    print("\n".join(lines()))
    return 0


def cmd_demo(argv: List[str]) -> int:
    print("rendering the built-in default case: nanobragg-ext " + " ".join(DEMO_ARGS + argv))
    return run(DEMO_ARGS + argv)


def cmd_nonbragg(argv: List[str]) -> int:
    from .nonbragg import main as nonbragg_main

    return nonbragg_main(argv)


def cmd_compose(argv: List[str]) -> int:
    from .compose import main as compose_main

    return compose_main(argv)


def cmd_noisify(argv: List[str]) -> int:
    from .noisify.command import main as noisify_main

    return noisify_main(argv)


def cmd_help(argv: List[str]) -> int:
    from .options_doc import help_command

    return help_command(argv)


def cmd_hkl(argv: List[str]) -> int:
    from .hkl_file import main as hkl_main

    return hkl_main(argv)


def cmd_dataset(argv: List[str]) -> int:
    from .dataset import main as dataset_main

    return dataset_main(argv)


SUBCOMMANDS = {
    "info": (cmd_info, "version, SIMD level, OpenMP threads, CUDA/GPU state, optional packages"),
    "hkl": (cmd_hkl, "a P1 HKL file from an MTZ/mmCIF file (gemmi)"),
    "dataset": (cmd_dataset, "a rotation sweep or still series to NeXus/NXmx HDF5 on Dask (see dataset -h)"),
    "noisify": (cmd_noisify, "detector effects on a float image, a drop-in for noisify (see README \"noisify\")"),
    "demo": (cmd_demo, "render the built-in default case (a 1024x1024 still of a cubic crystal)"),
    "help": (cmd_help, "the option reference (help OPTION: the entries that token fires)"),
    "nonbragg": (cmd_nonbragg, "amorphous background (water, air, ice ...) with nonBragg's options"),
    "compose": (cmd_compose, "Bragg render + backgrounds + detector chain in one run (see README \"nonbragg\")"),
}


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help", "-help"):
        print(USAGE)
        if argv:  # the full option reference, written from the option table
            from .options_doc import text_reference, write

            write("\n" + text_reference())
        return 0
    if argv[0] in SUBCOMMANDS:
        return SUBCOMMANDS[argv[0]][0](argv[1:])
    from .extras import MissingExtra
    from .io import InputError
    from .options import OptionError
    from .pipeline import UsageError

    try:
        return run(argv)
    except (OptionError, InputError, MissingExtra) as e:
        print(f"nanobragg-ext: error: {e}", file=sys.stderr)
        return 2
    except UsageError as e:
        print(f"nanobragg-ext: error: {e}\n{USAGE}", file=sys.stderr)
        return 9
    except (ValueError, RuntimeError) as e:  # e.g. -device cuda without a usable GPU
        print(f"nanobragg-ext: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nanobragg-ext: interrupted; no output written", file=sys.stderr)
        return 130
    except MemoryError:
        print("nanobragg-ext: error: out of memory; no output written", file=sys.stderr)
        return 2


# Subcommands that, like a render, leave nothing to tear down once their files are written.
FAST_EXIT = ("noisify", "nonbragg", "compose")


def entry() -> None:
    """The console script: main(), then, for a render, exit without the interpreter's teardown.

    Every output file is closed and renamed by then; tearing down the modules and freeing the
    heap only costs time (about 9 ms a run here). The other subcommands (dataset runs Dask, whose
    atexit handlers stop its processes) exit normally.
    """
    rc = main()
    if len(sys.argv) > 1 and sys.argv[1] in SUBCOMMANDS and sys.argv[1] not in FAST_EXIT:
        sys.exit(rc)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # e.g. stdout was a pipe closed early: Python's own exit status for that
        rc = rc or 120
    os._exit(rc)


if __name__ == "__main__":
    entry()
