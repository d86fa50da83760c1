from __future__ import annotations

import pytest

from deadweight import static
from deadweight.dockerfile.config import LintConfig
from deadweight.dockerfile.findings import Severity
from deadweight.filetree import partition
from deadweight.image import Image
from deadweight.imagelint import explain, lint_image
from deadweight.imagelint.lint import capture
from deadweight.reading import read_deltas

EXPECTED = [
    (0, "DW101", "warning", "The image runs as root (no User is set)"),
    (0, "DW108", "info", "The image has no HEALTHCHECK"),
    (1, "DW104", "info", "1 setuid/setgid path(s): /bin/su (setuid 4755)"),
    (3, "DW102", "error", "Env AWS_KEY_ID holds an AWS access key ID"),
    (4, "DL3008", "warning", None),
    (4, "DL3009", "info", None),
    (4, "DL3015", "info", None),
    (4, "DL3064", "warning", None),
    (4, "DW010", "error", None),
    (4, "DW103", "error", "/app/.npmrc holds an npm token"),
    (
        4,
        "DW103",
        "error",
        "/root/.ssh/id_rsa holds a private key"
        " (hidden by a later layer, still readable in this one)",
    ),
    (4, "DW104", "warning", "1 setuid/setgid path(s): /usr/local/bin/tool (setuid+setgid 6755)"),
    (4, "DW105", "warning", "1 world-writable path(s): /data (directory 0777)"),
    (4, "DW106", "info", "apt-cache: /var/lib/apt/lists holds 100 bytes in 1 file"),
    (4, "DW107", "warning", "build tools, 50 bytes: /usr/bin/gcc-12"),
    (6, "DL3025", "warning", None),
]


def test_every_planted_problem_is_found_once(image: Image) -> None:
    r = lint_image(image)
    got = [(f.line, f.code, f.severity.label, f.message) for f in r.findings]
    assert [(row, code, level) for row, code, level, _ in got] == [
        (row, code, level) for row, code, level, _ in EXPECTED
    ]
    for (_, _, _, message), (_, _, _, want) in zip(got, EXPECTED, strict=True):
        if want is not None:
            assert message == want
    assert r.image == "planted:1"  # Image.name: its first tag
    assert r.failed(Severity.ERROR) and r.as_lint_result().path == "planted:1"
    assert r.instruction(4) == "RUN apt-get update && apt-get install -y gcc"
    assert r.instruction(0) == ""
    assert r.reconstruction.base_guess == "alpine"


def test_config_ignores_and_overrides(image: Image) -> None:
    config = LintConfig(
        ignored=frozenset({"DW108", "DL3008", "DL3009", "DL3015", "DL3064", "DW010"}),
        overrides=(("DW105", Severity.ERROR),),
    )
    r = lint_image(image, config=config)
    codes = [(f.line, f.code, f.severity.label) for f in r.findings]
    assert (4, "DW105", "error") in codes
    assert not {c for _, c, _ in codes} & {"DW108", "DL3008", "DW010"}


def test_clean_image_has_no_findings() -> None:
    img = static.image(
        [
            static.Step(
                "COPY app /app # buildkit",
                static.layer([static.Dir("app"), static.File("app/run", b"r", 0o755)]),
                comment="buildkit.dockerfile.v0",
            ),
            static.Step("USER 1000", comment="buildkit.dockerfile.v0"),
        ],
        config={
            "User": "1000",
            "Env": ["PATH=/bin", "GPG_KEY=ABCDEF", "DB_PASSWORD_FILE=/run/secrets/db"],
            "Healthcheck": {"Test": ["CMD", "/app/run", "--check"]},
        },
    )
    assert lint_image(img).findings == ()


def test_root_user_points_at_the_user_row() -> None:
    img = static.image(
        [
            static.Step("USER app", comment="buildkit.dockerfile.v0"),
            static.Step("USER root", comment="buildkit.dockerfile.v0"),
        ],
        config={"User": "root:root", "Healthcheck": {"Test": ["CMD", "true"]}},
    )
    r = lint_image(img)
    assert [(f.line, f.code, f.message) for f in r.findings] == [
        (1, "DL3066", "Non-numeric user-id may not be resolvable by host system"),
        (2, "DL3066", "Non-numeric user-id may not be resolvable by host system"),
        (2, "DW101", "The image runs as root (User is 'root:root')"),
    ]


class MemoryStore:
    """An in-memory ``LayerCache``."""

    def __init__(self) -> None:
        self.sizes: dict[str, int] = {}
        self.blobs: dict[tuple[str, str], bytes] = {}

    def get(self, diff_id: str) -> int | None:
        return self.sizes.get(diff_id)

    def put(self, diff_id: str, size: int) -> None:
        self.sizes[diff_id] = size

    def get_blob(self, kind: str, diff_id: str) -> bytes | None:
        return self.blobs.get((kind, diff_id))

    def put_blob(self, kind: str, diff_id: str, data: bytes) -> None:
        self.blobs[(kind, diff_id)] = data


def test_layers_read_once_then_from_the_store(image: Image) -> None:
    store = MemoryStore()
    seen: list[tuple[int, int]] = []
    first = read_deltas(
        image, capture=capture, store=store, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert (
        sorted(k for k, _ in store.blobs) == ["delta-v2-xxh3-deadweight.imagelint.lint:capture"] * 3
    )
    assert [c.path for c in first[1].captured] == ["app/.npmrc", "root/.ssh/id_rsa"]
    again = read_deltas(image, capture=capture, store=store)
    assert again == first


def test_explain_pages() -> None:
    page = explain("dw103")
    assert page is not None
    assert page.startswith("DW103 (error): A credential in a file of the image (images only)")
    assert "Bad:\n  COPY .npmrc ./\n" in page
    assert explain("DL3008") is None


def test_a_dockerfile_rule_names_the_history_row_not_a_line_of_the_rebuilt_text() -> None:
    """DW005 says which instruction added what a later one deletes; on an image that is a
    row of its history (the rows the findings are at), never a line of the Dockerfile
    rebuilt from it, which no one reading the image sees."""
    bk = "buildkit.dockerfile.v0"
    base = static.layer([static.Dir("bin"), static.File("bin/sh", b"x", 0o755)])
    wheels = static.layer([static.Dir("tmp/wheels"), static.File("tmp/wheels/a.whl", b"w" * 50)])
    img = static.image(
        [
            static.Step("/bin/sh -c #(nop) ADD file:abc123 in / ", base),
            static.Step('/bin/sh -c #(nop)  CMD ["/bin/sh"]'),
            static.Step("WORKDIR /srv", comment=bk),
            static.Step("COPY wheels /tmp/wheels # buildkit", wheels, comment=bk),
            static.Step("EXPOSE map[8000/tcp:{}]", comment=bk),
            static.Step(
                "RUN /bin/sh -c rm -rf /tmp/wheels # buildkit",
                static.layer([static.Whiteout("tmp/wheels")]),
                comment=bk,
            ),
        ],
        repo_tags=("wheels:1",),
    )
    r = lint_image(img)
    dw005 = [f for f in r.findings if f.code == "DW005"]
    assert [(f.line, f.message) for f in dw005] == [
        (
            6,
            "`/tmp/wheels` was added by row 4 and deleted in a later layer, which saves no"
            " space; delete it in the instruction that creates it",
        )
    ]
    assert r.instruction(4) == "COPY wheels /tmp/wheels"


@pytest.mark.parametrize("size", [1, 3, 10])
def test_an_image_stacked_in_parts_gives_the_same_findings(
    image: Image, size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Layers holding more than ``partition.SIZE`` members are stacked a range of paths
    at a time (issue 16): every finding, its row and its message stay the same."""
    whole = lint_image(image).findings
    monkeypatch.setattr(partition, "SIZE", size)
    calls: list[int] = []
    real = partition.stacked_parts

    def counted(*args: object, **kw: object) -> object:
        for found in real(*args, **kw):  # type: ignore[arg-type]
            calls.append(1)
            yield found

    monkeypatch.setattr(partition, "stacked_parts", counted)
    assert lint_image(image).findings == whole
    assert len(calls) > 1  # it was stacked in parts indeed
