"""The fleet report, built as layers and images arrive, in a deterministic order.

Every list is sorted by its figures, then by name, so a report does not depend on the
order in which a cluster delivers results.
"""

from __future__ import annotations

from dataclasses import dataclass

from deadweight.analysis.report import Analysis
from deadweight.fleet.figures import ImageFigures, image_figures
from deadweight.fleet.layers import LayerFacts

# Bump when a field of the fleet JSON document changes meaning or disappears.
SCHEMA_VERSION = 1
TOP_SHARED = 20
TOP_DUPLICATES = 20
TOP_PACKAGES = 100


@dataclass(frozen=True, slots=True)
class SharedLayer:
    """A layer several images carry: ``position`` is its index in the first of them."""

    diff_id: str
    size: int
    position: int
    instruction: str
    images: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DuplicateFile:
    """The same large file (by content) written by ``copies`` different layers.

    ``extra_bytes`` is what all but one copy cost: a shared layer holding it once would
    save that much across the fleet.
    """

    digest: str
    size: int
    copies: int
    extra_bytes: int
    paths: tuple[str, ...]
    images: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PackageSpread:
    ecosystem: str
    name: str
    images: int
    versions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FailedImage:
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class Fleet:
    """Every image's figures and what they add up to.

    ``total_bytes`` is the sum of the images' sizes (what they take stored apart);
    ``unique_bytes`` counts each layer once (what the fleet takes with layers shared);
    ``stored_bytes`` the same, as the layers are stored (compressed). ``layers_read``
    unique layers were read for this report, ``layers_cached`` came from the layer store.
    """

    images: tuple[ImageFigures, ...]
    failed: tuple[FailedImage, ...]
    total_bytes: int
    unique_bytes: int
    stored_bytes: int
    reclaimable: int
    layers: int
    unique_layers: int
    layers_read: int
    layers_cached: int
    shared_layers: tuple[SharedLayer, ...]
    duplicate_files: tuple[DuplicateFile, ...]
    packages: tuple[PackageSpread, ...]
    schema_version: int = SCHEMA_VERSION


class Tally:
    """Accumulates a fleet: :meth:`add_layer` for each unique layer, :meth:`add_image` for
    each image once its layers are analysed, :meth:`add_failure` for each that could not
    be; :meth:`fleet` gives the report."""

    def __init__(self) -> None:
        self._layers: dict[str, LayerFacts] = {}
        self._images: dict[str, ImageFigures] = {}
        self._instructions: dict[str, tuple[str, ...]] = {}
        self._packages: dict[tuple[str, str], dict[str, set[str]]] = {}
        self._failed: dict[str, str] = {}

    def add_layer(self, facts: LayerFacts) -> None:
        self._layers.setdefault(facts.diff_id, facts)

    def add_image(self, analysis: Analysis, *, name: str, source: str, digest: str) -> None:
        figures = image_figures(analysis, name=name, source=source, digest=digest)
        self._images[name] = figures
        self._instructions[name] = tuple(layer.instruction for layer in analysis.layers)
        for p in analysis.packages:
            self._packages.setdefault((p.ecosystem, p.name), {}).setdefault(name, set()).add(
                p.version
            )

    def add_failure(self, name: str, reason: str) -> None:
        self._failed.setdefault(name, reason)

    def fleet(self, *, layers_read: int, layers_cached: int) -> Fleet:
        images = tuple(self._images[n] for n in sorted(self._images))
        carriers: dict[str, list[str]] = {}
        for figures in images:
            for diff_id in dict.fromkeys(figures.diff_ids):
                carriers.setdefault(diff_id, []).append(figures.name)
        facts = [self._layers[d] for d in sorted(carriers) if d in self._layers]
        return Fleet(
            images=images,
            failed=tuple(FailedImage(n, self._failed[n]) for n in sorted(self._failed)),
            total_bytes=sum(f.size for f in images),
            unique_bytes=sum(f.size for f in facts),
            stored_bytes=sum(f.stored for f in facts),
            reclaimable=sum(f.reclaimable for f in images),
            layers=sum(len(f.diff_ids) for f in images),
            unique_layers=len(carriers),
            layers_read=layers_read,
            layers_cached=layers_cached,
            shared_layers=self._shared(images, carriers),
            duplicate_files=_duplicates(facts, carriers),
            packages=self._spread(),
        )

    def _shared(
        self, images: tuple[ImageFigures, ...], carriers: dict[str, list[str]]
    ) -> tuple[SharedLayer, ...]:
        rows: list[SharedLayer] = []
        for diff_id, names in carriers.items():
            size = self._layers[diff_id].size if diff_id in self._layers else 0
            if len(names) < 2 or not size:  # an empty layer shared is no saving
                continue
            first = self._images[names[0]]
            at = first.diff_ids.index(diff_id)
            said = self._instructions[names[0]]
            rows.append(
                SharedLayer(diff_id, size, at, said[at] if at < len(said) else "", tuple(names))
            )
        rows.sort(key=lambda r: (-len(r.images), -r.size, r.position, r.diff_id))
        return tuple(rows[:TOP_SHARED])

    def _spread(self) -> tuple[PackageSpread, ...]:
        rows = [
            PackageSpread(
                ecosystem,
                name,
                len(by_image),
                tuple(sorted(set().union(*by_image.values()))),
            )
            for (ecosystem, name), by_image in self._packages.items()
            if by_image.keys() & self._images.keys()
        ]
        rows.sort(key=lambda r: (-r.images, r.ecosystem, r.name))
        return tuple(rows[:TOP_PACKAGES])


def _duplicates(
    facts: list[LayerFacts], carriers: dict[str, list[str]]
) -> tuple[DuplicateFile, ...]:
    by_digest: dict[str, list[tuple[LayerFacts, str]]] = {}
    for layer in facts:
        seen: set[str] = set()
        for f in layer.large_files:
            if f.digest not in seen:  # one copy per layer: a layer is shared, not copied
                seen.add(f.digest)
                by_digest.setdefault(f.digest, []).append((layer, f.path))
    rows: list[DuplicateFile] = []
    for digest, found in by_digest.items():
        if len(found) < 2:
            continue
        size = next(f.size for f in found[0][0].large_files if f.digest == digest)
        images = sorted({n for layer, _ in found for n in carriers[layer.diff_id]})
        rows.append(
            DuplicateFile(
                digest,
                size,
                len(found),
                size * (len(found) - 1),
                tuple(sorted({p for _, p in found})),
                tuple(images),
            )
        )
    rows.sort(key=lambda r: (-r.extra_bytes, r.digest))
    return tuple(rows[:TOP_DUPLICATES])
