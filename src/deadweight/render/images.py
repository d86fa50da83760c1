"""``docker images`` output as docker CLI 20.10 prints it (docker-formats.md §4.2, §4.3, §6).

Images are printed in the order given (see :func:`deadweight.summary.sort_summaries` for
the daemon's order). One image gives one row per (repository, tag[, digest]). docker
groups references by repository in a Go map, so the order of an image's repositories
changes from run to run; here it is the order in which each repository first appears in
``repo_tags`` (then ``repo_digests``) — with sorted references, the most frequent real
outcome. Tags of one repository keep their order.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

from deadweight.errors import InvalidReference
from deadweight.reference import Reference
from deadweight.render import formatter
from deadweight.render._gotime import local_zone, time_string
from deadweight.render.gotemplate import GoStruct
from deadweight.render.text import truncate_id
from deadweight.render.units import human_duration_ns, human_size, since_ns
from deadweight.spec.config import GO_ZERO_TIME
from deadweight.summary import ImageSummary

NONE = "<none>"
_CREATED = "{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}"
DEFAULT_FORMAT = "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t" + _CREATED + "\\t{{.Size}}"
DIGEST_FORMAT = (
    "table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}\\t{{.ID}}\\t" + _CREATED + "\\t{{.Size}}"
)
QUIET_FORMAT = "{{.ID}}"
RAW_FORMAT = "repository: {{ .Repository }}\ntag: {{.Tag}}\n{digest}image_id: {{.ID}}\n"
RAW_FORMAT += "created_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n"

HEADER = {
    "ID": "IMAGE ID",
    "Repository": "REPOSITORY",
    "Tag": "TAG",
    "Digest": "DIGEST",
    "CreatedSince": "CREATED",
    "CreatedAt": "CREATED AT",
    "Size": "SIZE",
    "Containers": "CONTAINERS",
    "VirtualSize": "SIZE",
    "SharedSize": "SHARED SIZE",
    "UniqueSize": "UNIQUE SIZE",
}


def image_format(format_: str, *, quiet: bool, digests: bool) -> str:
    """``NewImageFormat`` (an empty format is ``table``, as ``docker images`` passes it)."""
    source = format_ or formatter.TABLE
    if source == formatter.TABLE:
        if quiet:
            return QUIET_FORMAT
        return DIGEST_FORMAT if digests else DEFAULT_FORMAT
    if source == "raw":
        if quiet:
            return "image_id: {{.ID}}"
        return RAW_FORMAT.replace("{digest}", "digest: {{.Digest}}\n" if digests else "")
    if source.startswith(formatter.TABLE) and digests and "{{.Digest}}" not in source:
        source += "\t{{.Digest}}"
    return source


def _group(refs: Sequence[str], part: str) -> dict[str, list[str]]:
    """Tags or digests of ``refs`` by familiar repository name, in order of appearance."""
    groups: dict[str, list[str]] = {}
    for text in refs:
        try:
            ref = Reference.parse(text, default_tag=False)
        except InvalidReference:
            continue  # "<none>:<none>" and other unparsable text: docker skips it
        value = ref.tag if part == "tag" else ref.digest
        if value:
            groups.setdefault(ref.familiar_name, []).append(value)
    return groups


def image_rows(
    item: ImageSummary, *, digests: bool, need_digest: bool
) -> list[tuple[str, str, str]]:
    """(Repository, Tag, Digest) rows of one image: ``imageFormatTaggedAndDigest``.

    ``digests`` is ``--digests``; ``need_digest`` is that or a format showing
    ``{{.Digest}}``. An image without references (or with docker's ``<none>:<none>`` /
    ``<none>@<none>`` placeholders) is one ``<none>`` row.
    """
    placeholder = (item.repo_tags, item.repo_digests) in (
        ((), ()),
        ((f"{NONE}:{NONE}",), (f"{NONE}@{NONE}",)),
    )
    if placeholder:
        return [(NONE, NONE, NONE)]
    tags = _group(item.repo_tags, "tag")
    digests_by_repo = _group(item.repo_digests, "digest")
    rows: list[tuple[str, str, str]] = []
    for repo, repo_tags in tags.items():
        repo_digests = digests_by_repo.pop(repo, [])
        if not need_digest:
            repo_digests = []
        for tag in repo_tags:
            rows.extend((repo, tag, d) for d in repo_digests or [NONE])
    for repo, repo_digests in digests_by_repo.items():
        if digests:
            rows.extend((repo, NONE, d) for d in repo_digests)
        else:
            rows.append((repo, NONE, ""))
    return rows


def image_context(
    item: ImageSummary, repo: str, tag: str, digest: str, *, now: float, tz: _dt.tzinfo, trunc: bool
) -> GoStruct:
    """The methods of ``formatter.imageContext`` for one row, evaluated (API 1.41 values)."""
    since = ""
    if item.created != GO_ZERO_TIME:
        since = human_duration_ns(since_ns(now, item.created)) + " ago"
    return GoStruct(
        "*formatter.imageContext",
        {
            "ID": truncate_id(item.id) if trunc else item.id,
            "Repository": repo,
            "Tag": tag,
            "Digest": digest,
            "CreatedSince": since,
            "CreatedAt": time_string(item.created, tz),
            "Size": human_size(item.size, 3),
            "Containers": "N/A",
            "VirtualSize": human_size(item.size, 4),
            "SharedSize": "N/A",
            "UniqueSize": "N/A",
        },
    )


def format_images(
    summaries: Sequence[ImageSummary],
    *,
    now: float,
    tz: _dt.tzinfo | None = None,
    no_trunc: bool = False,
    quiet: bool = False,
    digests: bool = False,
    format: str = "",
) -> str:
    """The exact stdout of ``docker images [--no-trunc] [-q] [--digests] [--format F]``.

    ``summaries`` are printed in the order given. ``-q`` prints the ID once per row.
    Raises :class:`~deadweight.errors.UsageError` for a template that does not parse or
    cannot be applied to a row.
    """
    zone = tz or local_zone()
    final = image_format(format, quiet=quiet, digests=digests)
    need_digest = digests or "{{.Digest}}" in final
    contexts = [
        image_context(item, *row, now=now, tz=zone, trunc=not no_trunc)
        for item in summaries
        for row in image_rows(item, digests=digests, need_digest=need_digest)
    ]
    return formatter.write(final, contexts, HEADER)
