"""What planning reads from an image once (the merged tree, the scan, the package index,
the loader); a repair (``MinifyPlan.widen``) reuses it."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from deadweight.dockerfile.base import rootfs, split
from deadweight.dockerfile.reconstruct import history_steps
from deadweight.filetree.delta import LayerDelta
from deadweight.filetree.resolve import Resolver
from deadweight.filetree.tree import Tree
from deadweight.image import Image
from deadweight.minify.elf import Loader, conf_dirs
from deadweight.minify.packages import PackageIndex, index
from deadweight.minify.scan import Scan


@dataclass(frozen=True, slots=True)
class Context:
    """What planning reads from the image once; a repair (``widen``) reuses it."""

    image_id: str
    config: Mapping[str, Any]
    tree: Tree
    resolver: Resolver
    scan: Scan
    packages: PackageIndex
    loader: Loader
    paths: tuple[str, ...]  # every tree path, sorted: subtrees are ranges
    deltas: tuple[LayerDelta, ...] = ()
    copied: frozenset[int] = frozenset()  # layers a COPY or ADD of the image's own build wrote

    def below(self, top: str) -> Sequence[str]:
        """Every tree path strictly below directory ``top``."""
        lo = bisect_left(self.paths, top + "/")
        hi = bisect_left(self.paths, top + "0")  # "0" follows "/" in code point order
        return self.paths[lo:hi]


def context(image: Image, tree: Tree, found: Scan, deltas: tuple[LayerDelta, ...] = ()) -> Context:
    config = image.config.document.get("config")
    config = config if isinstance(config, dict) else {}
    resolver = Resolver(tree)
    paths = tuple(sorted(tree.nodes))
    env = {}
    for item in config.get("Env") or ():
        key, _, value = str(item).partition("=")
        env[key] = value
    library_path = tuple(d for d in env.get("LD_LIBRARY_PATH", "").split(":") if d)
    loader = Loader(
        resolver,
        found.elf,
        conf=conf_dirs(found.texts, paths),
        library_path=library_path,
    )
    pkgs = index(tree, resolver, found.texts)
    return Context(
        image.id,
        MappingProxyType(config),
        tree,
        resolver,
        found,
        pkgs,
        loader,
        paths,
        deltas,
        copied_layers(image),
    )


def copied_layers(image: Image) -> frozenset[int]:
    """The layers a ``COPY`` or ``ADD`` of the image's own build wrote: above its base
    (``dockerfile.base``, from the history), never a whole root file system."""
    steps = history_steps(image.history or (), image.config.container_config)
    own = steps[split(steps).rows :]
    return frozenset(
        s.layer
        for s in own
        if s.layer is not None and s.keyword in ("COPY", "ADD") and not rootfs(s)
    )
