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
import socket
from dataclasses import dataclass

from deadweight.analysis import packages
from deadweight.errors import DeadweightError, NotFound
from deadweight.filetree.delta import HashName
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
    try:
        return LayerResult(job.diff_id, delta.to_bytes(), "", who)
    except UnicodeEncodeError:  # the record is JSON: it cannot hold a name that is no UTF-8
        why = "holds a file name that is not UTF-8, which a worker cannot send back"
        return LayerResult(job.diff_id, None, why, who)


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
