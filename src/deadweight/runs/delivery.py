"""Writing a result to its destination, in the form that medium stores best, under a name
that is never empty and never the source's own."""

from __future__ import annotations

import dataclasses
import os
from contextlib import suppress

from deadweight.errors import UsageError
from deadweight.image import Image
from deadweight.mutate import gzip_layers
from deadweight.optimize.naming import derived_reference
from deadweight.sources import COMPRESSED_MEDIA, Location, write_image


def deliver(image: Image, dest: Location, *, insecure: bool = False) -> None:
    """Write ``image`` to ``dest`` atomically; media that keep blobs as stored (OCI
    layouts, registries) get gzip-compressed layers."""
    packed = gzip_layers(image) if dest.transport in COMPRESSED_MEDIA else image
    write_image(packed, dest, insecure=insecure)


def named(out: Location, image: Image, source: Location) -> Location:
    """``out`` with a tag: the one it names, else one derived from the source
    (``optimize.naming``), so the result is never untagged nor replaces the source's tag."""
    by_name = source.transport in ("docker", "docker-daemon")
    derived = derived_reference(
        image.repo_tags,
        reference=source.target if by_name else "",
        path="" if by_name else source.target,
    )
    if out.transport == "docker-archive" and not out.ref:
        return dataclasses.replace(out, ref=derived.familiar)
    if out.transport in ("oci", "oci-archive") and not out.ref:
        return dataclasses.replace(out, ref=derived.tag)
    if out.transport in ("docker", "docker-daemon"):
        ref = out.image_reference(default_tag=False)  # parsed once, by locate
        if not ref.tag and not ref.digest:
            tagged = ref.with_tag(derived.tag)
            target = tagged.familiar if out.transport != "docker" else str(tagged)
            return Location(out.transport, target, reference=tagged)
    return out


def refuse_input(out: Location, source: Location) -> None:
    """``-o`` naming the input archive or layout would replace what is being read."""
    files = ("docker-archive", "oci-archive", "oci")
    if out.transport not in files or source.transport not in files:
        return
    with suppress(OSError):
        if os.path.samefile(out.target, source.target):
            raise UsageError(f"-o {out.target}: that is the input; write the result elsewhere")
