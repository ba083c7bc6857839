"""noisify (detector effects on a photons/pixel image) as ``nanobragg-ext noisify`` and as the
:class:`DetectorResponse` API stage; see README "noisify"."""
from .response import DetectorResponse

__all__ = ["DetectorResponse"]
