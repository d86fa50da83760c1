"""Image media: every place an image can live, one module each.

This is the ONE place that parses source strings. The syntax follows skopeo's transports:

``docker-archive:PATH[:REF]``    a ``docker save`` / ``podman save`` archive
``oci:DIR[:TAG|@DIGEST]``        an OCI image layout directory
``oci-archive:PATH[:TAG]``       a tar of an OCI image layout
``dir:DIR``                      skopeo's directory transport (one image, untagged)
``docker://HOST/REPO[:TAG|@D]``  a registry (distribution API)
``docker-daemon:NAME[:TAG]``     a running Docker or Podman engine

A destination (``locate(spec, destination=True)``) names its medium the same way, or is a
bare ``FILE.tar`` (a docker archive) or ``DIR/`` / an existing directory (an OCI layout);
it takes a tag, never a digest. :func:`write_image` writes to any of them.

Every medium module (``archive``, ``layout``, ``registry``, ``engine``) has the same two
verbs, ``read(location, *, platform, insecure)`` and ``write(images, location, *,
insecure)``; :func:`open_image` and :func:`write_image` pick the module by transport and
nothing else. An image name is parsed once, by :func:`locate`, and travels in
``Location.reference``.

A bare argument is an existing file (an archive, docker or OCI, told apart by content;
``FILE:REF`` picks one image of it), an existing directory (an OCI layout, an unpacked
docker archive, or a ``dir:`` directory, told apart by its ``version`` file), a missing
path (``looks_like_path``) is "no such file" with no network call, else an image name for
the local engine when one answers, else for its registry.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from deadweight.errors import InvalidReference, NotFound
from deadweight.image import Image
from deadweight.platform import Platform
from deadweight.reference import Reference

WRITABLE = ("docker-archive", "oci", "oci-archive", "dir", "docker-daemon")
# media whose manifests name blobs as stored: layers are best written compressed there
COMPRESSED_MEDIA = ("oci", "oci-archive", "docker")


@dataclass(frozen=True, slots=True)
class Location:
    """A parsed source string: the transport, the path or name, and the image within."""

    transport: str
    target: str
    ref: str = ""
    # for a registry or an engine: ``target`` parsed (no default tag), once, by locate
    reference: Reference | None = field(default=None, compare=False, repr=False)

    def image_reference(self, *, default_tag: bool = True) -> Reference:
        """``target`` as an image reference (``latest`` when it names no tag or digest)."""
        ref = self.reference or Reference.parse(self.target, default_tag=False)
        if default_tag and not ref.tag and not ref.digest:
            return ref.with_tag("latest")
        return ref

    def __str__(self) -> str:
        if self.transport == "docker":
            return f"docker://{self.target}"
        return f"{self.transport}:{self.target}" + (f":{self.ref}" if self.ref else "")


def _split_path(rest: str) -> tuple[str, str]:
    """PATH[:REF]: the shortest prefix that exists is the path (paths may hold colons)."""
    for i, ch in enumerate(rest):
        if ch == ":" and os.path.exists(rest[:i]):
            return rest[:i], rest[i + 1 :]
    if os.path.exists(rest) or ":" not in rest:
        return rest, ""
    path, _, ref = rest.partition(":")
    return path, ref


def _disk_path(spec: str) -> str | None:
    for transport in ("docker-archive:", "oci-archive:", "oci:", "dir:"):
        if spec.startswith(transport):
            spec = spec[len(transport) :]
            break
    if not spec:
        return None
    path = _split_path(spec)[0]
    return path if os.path.exists(path) else None


def on_disk(spec: str) -> bool:
    """Whether ``spec`` names an image in a file or directory here (an archive or a
    layout, whose layers are files): a cheap guess by the grammar of :func:`locate`, with
    no engine or network call and never an error."""
    return _disk_path(spec) is not None


def spooled(spec: str) -> bool:
    """Whether opening ``spec`` first decompresses a whole archive here to a spool (a
    compressed archive file): what opening it twice would pay twice. Never an error."""
    path = _disk_path(spec)
    if path is None or not os.path.isfile(path):
        return False
    from deadweight import compression

    try:
        with open(path, "rb") as f:
            return compression.sniff(f.read(4)) != "none"
    except OSError:
        return False


def _sniff_file(path: str) -> str:
    """``docker-archive`` or ``oci-archive``, by what the archive holds."""
    from deadweight.sources.archive import open_container

    files = open_container(Path(path))
    if files.exists("manifest.json"):
        return "docker-archive"
    if files.exists("index.json"):
        return "oci-archive"
    from deadweight.errors import CorruptImage

    raise CorruptImage(f"{path}: not an image archive (neither manifest.json nor index.json)")


ARCHIVE_SUFFIXES = (".tar", ".tgz", ".gz", ".zst", ".tzst", ".xz", ".oci")
DOCKERFILE_NAMES = ("dockerfile", "containerfile")


def looks_like_path(spec: str) -> bool:
    """What a user meant as a file or folder, never as an image name: a path from the root,
    the home or the current directory, a name under an existing folder, an archive suffix,
    or a Dockerfile's name (``app/dockerfile`` is a valid image name, and a typo'd path)."""
    if not spec:
        return False
    if spec.startswith(("/", "./", "../", "~")) or spec in (".", ".."):
        return True
    name = spec.rsplit("/", 1)[-1].lower()
    if name.endswith(ARCHIVE_SUFFIXES) or name in DOCKERFILE_NAMES:
        return True
    if name.startswith(tuple(n + "." for n in DOCKERFILE_NAMES)):
        return True
    if name.endswith(tuple("." + n for n in DOCKERFILE_NAMES)):
        return True
    first, slash, _ = spec.partition("/")
    return bool(slash) and os.path.isdir(first)


def _destination(dest: str) -> Location:
    from deadweight.errors import UsageError

    if dest.startswith("docker://"):
        pushed = locate(dest)
        if pushed.image_reference().digest:
            raise UsageError(f"-o {dest}: a destination takes a tag, not a digest")
        return pushed
    if not dest.startswith(tuple(t + ":" for t in WRITABLE)):
        if dest.endswith(".tar"):
            return _destination("docker-archive:" + dest)
        if dest.endswith("/") or os.path.isdir(dest):
            return _destination("oci:" + dest.rstrip("/"))
        raise UsageError(
            f"-o {dest}: name the medium: docker-archive:PATH[:TAG], oci:DIR[:TAG], "
            "oci-archive:PATH[:TAG], dir:DIR or docker-daemon:NAME:TAG"
        )
    loc = locate(dest)
    if loc.transport == "docker-daemon":  # no tag given stays visible to the caller
        ref = loc.image_reference(default_tag=False)
        return Location(loc.transport, ref.familiar, reference=ref)
    if not loc.target:
        raise UsageError(f"-o {dest}: no path")
    if loc.ref.startswith("@"):
        raise UsageError(f"-o {dest}: a destination takes a tag, not a digest")
    return loc


def locate(
    spec: str, *, engine_available: bool | None = None, destination: bool = False
) -> Location:
    """Parse a source string, or with ``destination`` a place to write (see the module
    docstring)."""
    if destination:
        return _destination(spec)
    if not spec:
        raise InvalidReference("empty image reference")
    if spec.startswith("docker://"):
        ref = spec[len("docker://") :]
        return Location("docker", ref, reference=Reference.parse(ref, default_tag=False))
    for transport in ("docker-archive", "oci-archive", "oci", "dir", "docker-daemon"):
        prefix = transport + ":"
        if spec.startswith(prefix):
            rest = spec[len(prefix) :]
            if transport == "dir":  # skopeo's dir: takes a path and nothing else
                return Location(transport, rest)
            if transport == "docker-daemon":
                return Location(transport, rest, reference=Reference.parse(rest, default_tag=False))
            if transport == "oci" and "@" in rest and not os.path.exists(rest):
                path, _, digest = rest.rpartition("@")
                return Location(transport, path, "@" + digest)
            path, ref = _split_path(rest)
            return Location(transport, path, ref)
    if os.path.isfile(spec):
        return Location(_sniff_file(spec), spec)
    if os.path.isdir(spec):
        from deadweight.sources.directory import is_directory_image

        if is_directory_image(Path(spec)):
            return Location("dir", spec)
        kind = "docker-archive" if os.path.exists(os.path.join(spec, "manifest.json")) else "oci"
        return Location(kind, spec)
    path, ref = _split_path(spec)
    if ref and os.path.isfile(path):  # FILE:REF, as docker-archive:FILE:REF
        return Location(_sniff_file(path), path, ref)
    if looks_like_path(spec) or looks_like_path(path):
        # Never a registry lookup (a DNS query) for what was meant as a file.
        raise NotFound(f"{spec}: no such file or directory")
    parsed = Reference.parse(spec, default_tag=False)
    if engine_available is None:
        from deadweight.sources import engine

        engine_available = engine.available()
    return Location("docker-daemon" if engine_available else "docker", spec, reference=parsed)


# the module of each medium: each has read(location, ...) and write(images, location, ...)
MEDIA = {
    "docker-archive": "archive",
    "oci": "layout",
    "oci-archive": "layout",
    "dir": "directory",
    "docker": "registry",
    "docker-daemon": "engine",
}


def medium(transport: str) -> ModuleType:
    """The module that reads and writes images of ``transport``."""
    return importlib.import_module(f"deadweight.sources.{MEDIA[transport]}")


def open_image(
    spec: str | Location,
    *,
    platform: Platform | None = None,
    insecure: bool = False,
) -> Image:
    """Open one image, reading only its manifest and config."""
    loc = spec if isinstance(spec, Location) else locate(spec)
    image: Image = medium(loc.transport).read(loc, platform=platform, insecure=insecure)
    return image


def list_images(
    spec: str | Location,
    *,
    platform: Platform | None = None,
    insecure: bool = False,
) -> list[Image]:
    """Every image a source holds (for an engine, use ``engine.list_summaries``)."""
    loc = spec if isinstance(spec, Location) else locate(spec)
    if loc.transport == "docker-archive":
        from deadweight.sources import archive

        found = archive.images(Path(loc.target))
        return [archive.read(Path(loc.target), loc.ref)] if loc.ref else found
    if loc.transport in ("oci", "oci-archive"):
        from deadweight.sources import layout

        if loc.ref:
            return [layout.read(Path(loc.target), loc.ref, platform, loc.transport)]
        return layout.images(Path(loc.target), platform, loc.transport)
    if loc.transport == "dir":
        from deadweight.sources import directory

        return directory.images(Path(loc.target), platform)
    if loc.transport == "docker":
        from deadweight.sources import registry

        ref = Reference.parse(loc.target, default_tag=False)
        if ref.tag or ref.digest:
            return [registry.read(ref, platform=platform, insecure=insecure)]
        return registry.list_images(ref, platform=platform, insecure=insecure)
    from deadweight.sources import engine

    return [engine.read(loc.target)]


def write_image(image: Image, dest: Location, *, insecure: bool = False) -> None:
    """Write ``image`` to ``dest`` (from ``locate(..., destination=True)``): atomically to
    a file or directory, loaded into the engine, or pushed (blobs first, the manifest last,
    so a failed push leaves no tag), named by the destination's tag (none: untagged).
    Layers are written as they are stored in ``image``; for :data:`COMPRESSED_MEDIA` give
    them compressed."""
    medium(dest.transport).write([image], dest, insecure=insecure)
