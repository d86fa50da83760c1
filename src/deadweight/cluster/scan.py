"""``scan``: a fleet report from SOURCE arguments, each unique layer read once.

Manifests and configs come first (:func:`collection.collect`); layers are deduplicated
by diff_id across the whole fleet; layers the store already holds are not read again;
the others go to the runner, one job each. As results arrive, an image whose layers are
all in is analysed here, from its layers' results, exactly as ``analyze`` would (see
:func:`deadweight.analysis.analyze.analyze_read`), and its layers' results are released
once no image still waiting needs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from deadweight.analysis import packages
from deadweight.analysis.analyze import analyze_read
from deadweight.cache import LayerCache
from deadweight.cluster.collection import Member, Problem, collect
from deadweight.cluster.runners import Runner
from deadweight.cluster.work import LayerJob, LayerResult, decode, storable
from deadweight.filetree.delta import LayerDelta, default_hash
from deadweight.fleet.layers import layer_facts
from deadweight.fleet.tally import Fleet, Tally
from deadweight.platform import Platform
from deadweight.progress import Progress
from deadweight.reading import store_kind


def scan(
    sources: Sequence[str],
    runner: Runner,
    *,
    platform: Platform | None = None,
    insecure: bool = False,
    store: LayerCache | None = None,
    layer_progress: Progress | None = None,
    image_progress: Progress | None = None,
) -> Fleet:
    """The fleet of ``sources``: each unique layer read once (by ``runner``), each image
    tallied when its last layer is in; progress counts the unique layers read and the
    images tallied."""
    found = collect(sources, platform=platform, insecure=insecure)
    members = [f for f in found if isinstance(f, Member)]
    run = _Run(members, store, layer_progress, image_progress)
    for problem in (f for f in found if isinstance(f, Problem)):
        run.tally.add_failure(problem.name, problem.reason)
    jobs = run.plan(str(platform) if platform else None, insecure)
    run.report()
    runner.run(jobs, run.done)
    return run.tally.fleet(layers_read=run.read, layers_cached=run.cached)


@dataclass
class _Run:
    members: list[Member]
    store: LayerCache | None
    layer_progress: Progress | None
    image_progress: Progress | None
    tally: Tally = field(default_factory=Tally)
    results: dict[str, bytes] = field(default_factory=dict)
    waiting: dict[str, set[int]] = field(default_factory=dict)  # diff_id -> images needing it
    missing: dict[int, set[str]] = field(default_factory=dict)  # image -> diff_ids not in yet
    stored: dict[str, int] = field(default_factory=dict)
    unique: int = 0
    read: int = 0
    cached: int = 0
    broken: int = 0
    assembled: int = 0

    def __post_init__(self) -> None:
        self.kind = store_kind(default_hash(), packages.capture)

    def plan(self, platform: str | None, insecure: bool) -> list[LayerJob]:
        jobs: dict[str, LayerJob] = {}
        for n, member in enumerate(self.members):
            self.missing[n] = set()
            for layer in member.image.layers:
                self.waiting.setdefault(layer.diff_id, set()).add(n)
                self.missing[n].add(layer.diff_id)
                self.stored.setdefault(layer.diff_id, layer.blob.size)
                if layer.diff_id not in jobs:
                    jobs[layer.diff_id] = LayerJob(
                        layer.diff_id, member.reader, platform, insecure, default_hash()
                    )
        self.unique = len(jobs)
        for n in [n for n, need in self.missing.items() if not need]:
            self._assemble(n)
        fresh: list[LayerJob] = []
        for diff_id, job in jobs.items():
            data = self.store.get_blob(self.kind, diff_id) if self.store is not None else None
            if data is not None and LayerDelta.from_bytes(data) is not None:
                self.cached += 1
                self._arrived(diff_id, data)
            else:
                fresh.append(job)
        return fresh

    def done(self, result: LayerResult) -> None:
        if result.delta is None:
            self.broken += 1
            self._failed(result.diff_id, result.error)
        else:
            self.read += 1
            if self.store is not None and storable(result.delta):
                self.store.put_blob(self.kind, result.diff_id, result.delta)
            self._arrived(result.diff_id, result.delta)
        self.report()

    def report(self) -> None:
        if self.layer_progress is not None:
            self.layer_progress(self.read + self.cached + self.broken, self.unique)
        if self.image_progress is not None:
            self.image_progress(self.assembled, len(self.members))

    def _arrived(self, diff_id: str, data: bytes) -> None:
        delta = decode(data)
        assert delta is not None  # our own workers' encoding, same version
        self.tally.add_layer(layer_facts(diff_id, delta, self.stored.get(diff_id, 0)))
        self.results[diff_id] = data
        for n in sorted(self.waiting.get(diff_id, ())):
            need = self.missing.get(n)
            if need is None:
                continue
            need.discard(diff_id)
            if not need:
                self._assemble(n)
        if diff_id not in self.waiting:  # every image needing it is done, or failed
            self.results.pop(diff_id, None)

    def _failed(self, diff_id: str, reason: str) -> None:
        for n in sorted(self.waiting.get(diff_id, ())):
            if self.missing.pop(n, None) is not None:
                self.assembled += 1
                self.tally.add_failure(self.members[n].name, f"layer {diff_id[:19]}: {reason}")
                self._release(n)

    def _assemble(self, n: int) -> None:
        member = self.members[n]
        del self.missing[n]
        deltas = []
        for layer in member.image.layers:
            delta = decode(self.results[layer.diff_id])
            assert delta is not None
            deltas.append(delta)
        analysis = analyze_read(member.image, deltas)
        self.tally.add_image(
            analysis, name=member.name, source=member.image.source, digest=member.image.digest or ""
        )
        self.assembled += 1
        self._release(n)

    def _release(self, n: int) -> None:
        for layer in self.members[n].image.layers:
            users = self.waiting.get(layer.diff_id)
            if users is None:
                continue
            users.discard(n)
            if not users:
                del self.waiting[layer.diff_id]
                self.results.pop(layer.diff_id, None)
