"""``gzip_layers``: the same image with its uncompressed layers stored gzip-compressed.

For media whose manifests name compressed blobs (OCI layouts, registries). Compression is
deterministic (no file name, mtime 0, one level), so the same layer gives the same blob
digest; the diff_ids, and so the config and image ID, do not change.
"""

from __future__ import annotations

import gzip
import shutil

from deadweight import compression, mediatypes
from deadweight.image import Image, Layer, assemble
from deadweight.mutate._spool import DigestingWriter, Spool
from deadweight.spec.manifest import Descriptor
from deadweight.streams import CHUNK

LEVEL = 6


def gzip_layer(layer: Layer) -> Layer:
    """``layer`` stored as gzip (as it is when it is compressed already)."""
    with layer.open_blob(verify=False) as raw:
        head = raw.read(4)
    if compression.sniff(head) != "none":
        return layer
    spool = Spool(".tar.gz")
    writer = DigestingWriter(spool.file)
    with (
        layer.open() as src,
        gzip.GzipFile(filename="", mode="wb", fileobj=writer, compresslevel=LEVEL, mtime=0) as gz,
    ):
        shutil.copyfileobj(src, gz, CHUNK)
    spool.file.flush()
    desc = Descriptor(mediatypes.OCI_LAYER_GZIP, writer.digest, writer.size)
    return Layer(
        diff_id=layer.diff_id, blob=desc, opener=spool.opener(), size=layer.size, seekable=True
    )


def gzip_layers(image: Image) -> Image:
    """A new image whose layers are all stored compressed."""
    layers = [gzip_layer(layer) for layer in image.layers]
    if all(new is old for new, old in zip(layers, image.layers, strict=True)):
        return image
    return assemble(image.raw_config, layers, repo_tags=image.repo_tags, source=image.source)
