"""``nanobragg-ext dataset``: its own --options beside the nanoBragg flags, progress, exit status."""
from __future__ import annotations

import sys
import time
from typing import Dict, List

from .run import Dataset
from .series import RotationSweep, Series, StillSeries

__all__ = ["USAGE", "main"]

USAGE = """usage: nanobragg-ext dataset <nanoBragg flags> (--sweep START WIDTH FRAMES | --stills N --seed S
                             [--jitter-cell PCT] [--jitter-size PCT]) --out file.h5
                             [--workers N] [--scheduler ADDRESS] [--timeout SECONDS] [--threads T]
                             [--cbf DIR] [--noise [--counts uint16|int32]] [--overwrite] [--max-in-flight K]
                             [-background <nonBragg flags>]... [-noisify <noisify flags>]
Renders a rotation sweep (START, WIDTH per frame in degrees, FRAMES) or N stills of randomly
oriented crystals into a NeXus/NXmx HDF5 file; an interrupted run resumes where it stopped.
-geom FILE, -expt FILE or -detector NAME render a multi-panel detector (one module per panel).
  --workers N      local Dask worker processes (default 1; 0 = no Dask)
  --scheduler A    use a running Dask scheduler instead (tcp://host:8786)
  --timeout S      seconds to wait for the scheduler and for workers (default 30)
  --threads T      OpenMP threads per frame (default: cores / workers)
  --cbf DIR        also write one CBF per frame (fabio)
  --noise          noisy counts instead of float32 photons (--counts uint16 (default) or int32)
  --seed S         dataset seed (stills: orientations, crystals and noise; sweep: noise)
  -background ...  add an amorphous background to every frame (nonBragg's flags, one material
                   each, as in 'nanobragg-ext compose')
  -noisify ...     noisify's detector chain on every frame (its flags; its file names and -seed
                   are not used: each frame draws from its own noise seed)"""

_OPTIONS = {"--sweep": 3, "--stills": 1, "--seed": 1, "--jitter-cell": 1, "--jitter-size": 1, "--out": 1,
            "--workers": 1, "--scheduler": 1, "--timeout": 1, "--threads": 1, "--cbf": 1, "--noise": 0,
            "--counts": 1, "--overwrite": 0, "--max-in-flight": 1, "--max-frames": 1, "--no-progress": 0}


def _split_args(argv: List[str]):
    """(our --options, the nanoBragg flags); single-dash tokens are nanoBragg's."""
    from ..options import OptionError

    ours: Dict[str, List[str]] = {}
    rest: List[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok.startswith("--"):
            if tok not in _OPTIONS:
                import difflib
                near = difflib.get_close_matches(tok, list(_OPTIONS), 1)
                raise OptionError(f"unknown option {tok}" + (f" (did you mean {near[0]}?)" if near else ""))
            k = _OPTIONS[tok]
            vals = argv[i + 1:i + 1 + k]
            if len(vals) < k or any(v.startswith("--") for v in vals):
                raise OptionError(f"option {tok} needs {k} value(s)")
            ours[tok] = vals
            i += 1 + k
        else:
            rest.append(tok)
            i += 1
    return ours, rest


def _num(ours, key, kind=float, default=None):
    from ..options import OptionError

    if key not in ours:
        return default
    text = ours[key][0]
    try:
        v = float(text)
        if kind is int:
            if v != int(v):
                raise ValueError
            return int(v)
        return v
    except ValueError:
        raise OptionError(f"option {key}: '{text}' is not {'an integer' if kind is int else 'a number'}") from None


def _series(ours) -> Series:
    from ..options import OptionError

    if ("--sweep" in ours) == ("--stills" in ours):
        raise OptionError("give exactly one of --sweep START WIDTH FRAMES or --stills N")
    seed = _num(ours, "--seed", int, 0)
    if "--sweep" in ours:
        try:
            start, width, frames = (float(x) for x in ours["--sweep"])
        except ValueError:
            raise OptionError(f"option --sweep: '{' '.join(ours['--sweep'])}' is not START WIDTH FRAMES") from None
        if frames != int(frames):
            raise OptionError(f"option --sweep: FRAMES '{ours['--sweep'][2]}' is not an integer")
        return RotationSweep(start, width, int(frames), seed)
    if "--seed" not in ours:
        raise OptionError("--stills needs --seed S (frames are reproducible from it)")
    return StillSeries(_num(ours, "--stills", int), seed, _num(ours, "--jitter-cell", float, 0.0),
                       _num(ours, "--jitter-size", float, 0.0))


def _detector(flags: List[str]):
    """(the other flags, the multi-panel Detector of -geom/-expt/-detector or None)."""
    from ..detector.cli import _load, split_args
    from ..detector.render import placement
    from ..options import OptionError, parse_args

    rest, found = split_args(flags)
    for key in ("-write_geom", "-write_expt"):
        if key in found:
            raise OptionError(f"option {key}: not a dataset option (the NXmx file holds the geometry)")
    if not found:
        return rest, None
    det = _load(found, placement(parse_args(rest)).geometry)
    det.check_overlaps()
    return rest, det


class _Progress:
    """frames/s and ETA: tqdm when installed, else one rewritten line; silent when not a tty.
    Worker losses are always reported, as a line of their own."""

    def __init__(self, stream, enabled: bool):
        self.stream = stream
        self.enabled = enabled and stream.isatty()
        self.bar = None
        self.t0 = None
        self.first = 0
        self.lost = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        if self.t0 is None:
            self.t0, self.first = time.perf_counter(), done
            try:
                from tqdm import tqdm
                self.bar = tqdm(total=total, initial=done, unit="frame", file=self.stream, smoothing=0.1)
            except ImportError:
                self.bar = None
            return
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
            return
        dt = time.perf_counter() - self.t0
        rate = (done - self.first) / dt if dt > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else float("inf")
        lost = f"  {self.lost} worker(s) lost" if self.lost else ""
        self.stream.write(f"\r{done}/{total} frames  {rate:.2f} frames/s  ETA {eta:.0f} s{lost}   ")
        self.stream.flush()

    def notify(self, message: str) -> None:
        """A worker went away: a line above the bar, which keeps counting."""
        self.lost += 1
        if self.bar is not None:
            self.bar.set_postfix_str(f"{self.lost} worker(s) lost", refresh=False)
            self.bar.write(f"dataset: {message}", file=self.stream)
            return
        if self.enabled and self.t0 is not None:
            self.stream.write("\n")
        self.stream.write(f"dataset: {message}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and self.t0 is not None:
            self.stream.write("\n")


def main(argv: List[str], out=None) -> int:
    """``nanobragg-ext dataset ...``; returns the exit status (2 when the run cannot be done or stops)."""
    from ..api import UsageError
    from ..config import SimulationConfig
    from ..extras import MissingExtra
    from ..io import InputError
    from ..options import OptionError
    from .cluster import FrameError
    from .nexus import DatasetExists

    out = sys.stdout if out is None else out
    if any(a in ("-h", "--help", "-help") for a in argv):
        print(USAGE, file=out)
        return 0
    if not argv:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        ours, flags = _split_args(argv)
        series = _series(ours)
        if "--out" not in ours:
            raise OptionError("--out file.h5 is required")
        counts = None
        if "--noise" in ours:
            counts = ours.get("--counts", ["uint16"])[0]
            if counts not in ("uint16", "int32"):
                raise OptionError(f"option --counts: '{counts}' is not uint16 or int32")
        elif "--counts" in ours:
            raise OptionError("--counts needs --noise (counts are noisy images)")
        timeout = _num(ours, "--timeout", float, 30.0)
        if not timeout > 0:
            raise OptionError(f"option --timeout: '{ours['--timeout'][0]}' is not a positive number of seconds")
        from ..compose import split_groups

        bragg, groups, noisify_flags = split_groups(flags)
        bragg, detector = _detector(bragg)
        config = SimulationConfig.from_cli_args(bragg)
        background = response = None
        if groups:
            from ..background import Background

            background = Background.from_groups(groups)
        if noisify_flags is not None:
            from ..compose import detector_stage

            noisify_req, response = detector_stage(noisify_flags, config.detector.shape)
            if not noisify_req.calculate_noise:
                raise OptionError("-noisify -nonoise: a dataset's detector stage makes noisy counts "
                                  "(leave out -noisify for float32 photons)")
        ds = Dataset(config, series, counts, detector, background=background, response=response)
        bar = _Progress(sys.stderr, "--no-progress" not in ours)
        path = ours["--out"][0]
        print(f"dataset: {len(ds)} frames of {ds.shape[1]}x{ds.shape[0]} pixels ({ds.dtype.name}) -> {path}",
              file=out)
        try:
            stats = ds.write(path, workers=_num(ours, "--workers", int, 1), scheduler=ours.get("--scheduler", [None])[0],
                             threads=_num(ours, "--threads", int, None), cbf_dir=ours.get("--cbf", [None])[0],
                             overwrite="--overwrite" in ours, max_in_flight=_num(ours, "--max-in-flight", int, None),
                             max_frames=_num(ours, "--max-frames", int, None), progress=bar, timeout=timeout,
                             notify=bar.notify)
        finally:
            bar.close()
    except DatasetExists as e:
        print(f"nanobragg-ext dataset: error: {DatasetExists(e.path, '--overwrite')}", file=sys.stderr)
        return 2
    except FrameError as e:
        print(f"nanobragg-ext dataset: error: {e}; the frames written so far are kept (run again to resume)",
              file=sys.stderr)
        return 2
    except (OptionError, InputError, MissingExtra, UsageError, ValueError, RuntimeError, OSError) as e:
        print(f"nanobragg-ext dataset: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("nanobragg-ext dataset: interrupted; frames written so far are kept (run again to resume)",
              file=sys.stderr)
        return 130
    lost = f"; {stats['workers_lost']} worker(s) lost on the way" if stats["workers_lost"] else ""
    print(f"wrote {stats['written']} frames ({stats['skipped']} already there) in {stats['seconds']:.1f} s: "
          f"{stats['frames_per_s']:.2f} frames/s with {stats['workers']} worker(s){lost}", file=out)
    return 0
