"""What a worker does for one unique layer: open the image that holds it (manifest and
config only, kept for the next layer of the same source), stream the layer once, and
send back the per-layer result the layer store keeps (``LayerDelta.to_bytes``), never
layer bytes.

Runs in Dask worker processes, possibly on other machines: everything a job needs is in
the job (the source to open, platform, ``insecure``); registry credentials are the
worker's own (``DOCKER_CONFIG``, credential helpers), as for every other command.
"""

from __future__ import annotations

import functools
import os
import pickle
import socket
from dataclasses import dataclass

from deadweight.analysis import packages
from deadweight.errors import DeadweightError, NotFound
from deadweight.filetree.delta import HashName, LayerDelta
from deadweight.image import Image, Layer
from deadweight.platform import Platform
from deadweight.reading import read_layer
from deadweight.sources import list_images

IMAGES_KEPT = 16  # opened sources per worker process: their layers are often asked next


@dataclass(frozen=True, slots=True)
class LayerJob:
    diff_id: str
    reader: str
    platform: str | None
    insecure: bool
    hash: HashName


@dataclass(frozen=True, slots=True)
class LayerResult:
    """A layer's encoded delta, or why it could not be read; ``reader`` names the process
    (host:pid) that read it."""

    diff_id: str
    delta: bytes | None
    error: str
    reader: str


def read_layer_job(job: LayerJob) -> LayerResult:
    """Read one layer; a deadweight error (corrupt, refused, unreachable) is a result."""
    who = f"{socket.gethostname()}:{os.getpid()}"
    try:
        layer = _find(job)
        delta = read_layer(layer, capture=packages.capture, hash=job.hash)
    except DeadweightError as exc:
        return LayerResult(job.diff_id, None, exc.message, who)
    except OSError as exc:
        return LayerResult(job.diff_id, None, f"{exc.strerror or exc}", who)
    return LayerResult(job.diff_id, encode(delta), "", who)


# A delta whose record (JSON, UTF-8) cannot hold a file name that is not UTF-8 travels
# pickled, as Dask sends everything between its processes; it is never stored.
_PICKLED = b"pickle:"


def encode(delta: LayerDelta) -> bytes:
    """A delta as a worker sends it back: its record, or pickled when a name is no UTF-8."""
    try:
        return delta.to_bytes()
    except UnicodeEncodeError:
        return _PICKLED + pickle.dumps(delta, protocol=pickle.HIGHEST_PROTOCOL)


def storable(data: bytes) -> bool:
    """Whether ``data`` (from :func:`encode`) is a record the layer store may keep."""
    return not data.startswith(_PICKLED)


def decode(data: bytes) -> LayerDelta | None:
    """The delta :func:`encode` made, or one the layer store kept (a record only)."""
    if data.startswith(_PICKLED):
        delta = pickle.loads(data[len(_PICKLED) :])
        return delta if isinstance(delta, LayerDelta) else None
    return LayerDelta.from_bytes(data)


def _find(job: LayerJob) -> Layer:
    for image in _images(job.reader, job.platform, job.insecure):
        for layer in image.layers:
            if layer.diff_id == job.diff_id:
                return layer
    raise NotFound(f"{job.reader}: no layer {job.diff_id} (the image changed since the scan began)")


@functools.lru_cache(maxsize=IMAGES_KEPT)
def _images(reader: str, platform: str | None, insecure: bool) -> tuple[Image, ...]:
    wanted = Platform.parse(platform) if platform else None
    return tuple(list_images(reader, platform=wanted, insecure=insecure))
