"""Writing a result to its destination, in the form that medium stores best."""

from __future__ import annotations

from deadweight.image import Image
from deadweight.mutate import gzip_layers
from deadweight.sources import COMPRESSED_MEDIA, Location, write_image


def deliver(image: Image, dest: Location, *, insecure: bool = False) -> None:
    """Write ``image`` to ``dest`` atomically; media that keep blobs as stored (OCI
    layouts, registries) get gzip-compressed layers."""
    packed = gzip_layers(image) if dest.transport in COMPRESSED_MEDIA else image
    write_image(packed, dest, insecure=insecure)
