"""Run by the dxtbx environment's python (``$NANOBRAGG_DXTBX_PYTHON``), not by pytest: opens each
file named on the command line with dxtbx as DIALS does (ExperimentListFactory) and prints one
JSON object per file with what dxtbx made of it; the raw pixels of every image go to
``<out>/<n>_<image>_<panel>.npy`` (argv[1] is out, the files follow)."""
import json
import os
import sys

import numpy as np
from dxtbx.format.FormatMultiImage import FormatMultiImage
from dxtbx.format.Registry import get_format_class_for_file
from dxtbx.model.experiment_list import ExperimentListFactory


def panel_info(p, s0):
    try:
        centre = list(p.get_beam_centre_px(s0))
    except RuntimeError:  # the beam misses the panel's plane
        centre = None
    return {"name": p.get_name(), "image_size": list(p.get_image_size()), "pixel_size": list(p.get_pixel_size()),
            "origin": list(p.get_origin()), "fast": list(p.get_fast_axis()), "slow": list(p.get_slow_axis()),
            "distance": p.get_distance(), "beam_centre_px": centre, "material": p.get_material(),
            "thickness": p.get_thickness(), "trusted_range": list(p.get_trusted_range()),
            "pedestal": p.get_pedestal()}


def image_wavelengths(path, images):
    """The wavelength of each image as the format class reads it (an experiment list of a still
    sequence gives every experiment the first image's beam)."""
    cls = get_format_class_for_file(path)
    fmt = cls.get_instance(path)
    if not issubclass(cls, FormatMultiImage):  # one image per file: get_beam() takes no index
        return [fmt.get_beam().get_wavelength()]
    return [fmt.get_beam(i).get_wavelength() for i in range(images)]


def probe(n, path, out):
    experiments = ExperimentListFactory.from_filenames([path])
    first = experiments[0]
    beam, det, scan, gonio = first.beam, first.detector, first.scan, first.goniometer
    imageset = first.imageset
    result = {"path": path, "format": get_format_class_for_file(path).__name__, "experiments": len(experiments),
              "images": len(imageset), "wavelength": beam.get_wavelength(), "s0": list(beam.get_s0()),
              "polarization_fraction": beam.get_polarization_fraction(),
              "panels": [panel_info(p, beam.get_s0()) for p in det],
              "scan": None if scan is None else {"image_range": list(scan.get_image_range()),
                                                 "oscillation": list(scan.get_oscillation()),
                                                 "is_still": bool(scan.is_still())},
              "experiment_scans": [None if e.scan is None else list(e.scan.get_oscillation()) for e in experiments],
              "rotation_axis": None if gonio is None else list(gonio.get_rotation_axis()),
              "image_wavelengths": image_wavelengths(path, len(imageset))}
    for i in range(len(imageset)):
        for j, panel in enumerate(imageset.get_raw_data(i)):
            np.save(os.path.join(out, f"{n}_{i}_{j}.npy"), panel.as_numpy_array())
    return result


if __name__ == "__main__":
    out = sys.argv[1]
    print(json.dumps([probe(n, path, out) for n, path in enumerate(sys.argv[2:])]))
