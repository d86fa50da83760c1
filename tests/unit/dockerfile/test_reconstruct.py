"""The Dockerfile rebuilt from history, checked against the real Dockerfiles of the dfx
images (docker-formats-examples/dockerfile-dfx-*.txt) and against each created_by form."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from deadweight.dockerfile.parser import parse
from deadweight.dockerfile.reconstruct import reconstruct
from deadweight.dockerfile.words import go_list, quote
from deadweight.spec.config import HistoryEntry, parse_config

DATA = Path(__file__).parents[1] / "render" / "data"
EXAMPLES = Path("/work/shared/specs/docker-formats-examples")


def entry(created_by: str, *, layer: bool = False, comment: str = "") -> HistoryEntry:
    return HistoryEntry(0, created_by, comment, "", not layer)


def bk(created_by: str, *, layer: bool = False) -> HistoryEntry:
    return entry(created_by, layer=layer, comment="buildkit.dockerfile.v0")


def from_config(name: str) -> tuple[Any, ...]:
    cfg = parse_config((DATA / name).read_bytes())
    assert cfg.history is not None
    return cfg.history, cfg.container_config


def final_stage(text: str) -> list[tuple[str, str]]:
    """(keyword, value) of the last stage's instructions, without COPY --from."""
    out: list[tuple[str, str]] = []
    for ins in parse(text).instructions:
        if ins.keyword == "FROM":
            out = []
            continue
        words = [w for w in ins.value.split() if not w.startswith("--from=")]
        out.append((ins.keyword, " ".join(words)))
    return out


def same_modulo_history(rebuilt: str, real: str) -> None:
    """Equal, except for the sources the classic builder keeps only as a content hash."""
    ours, theirs = final_stage(rebuilt), final_stage(real)
    assert len(ours) == len(theirs)
    for (kw, value), (real_kw, real_value) in zip(ours, theirs, strict=True):
        if kw in ("COPY", "ADD") and re.match(r"(?:--\S+ )*(file|dir|multi):", value):
            flags = [w for w in value.split() if w.startswith("--")]
            value = " ".join([*flags, "<src>", value.split()[-1]])
            words = real_value.split()
            real_value = " ".join([*flags, "<src>", words[-1]])
        assert (kw, value) == (real_kw, real_value)


SOURCE_NOTE = (
    "# unknown: the source (a file): the classic builder recorded only file:{}…, a hash of "
    "the content; a build stage or the build context"
)


LEGACY = "\n".join(
    [
        "# Rebuilt by deadweight from the image history (16 rows, 8 layers).",
        '# "unknown:" comments mark what the history does not record.',
        "# unknown: the base image's name (history rows 1-1, 1 layer)",
        "FROM scratch AS base",
        "# a layer imported with `docker import` ('Imported from -')",
        "",
        "FROM base",
        'LABEL maintainer="dfx research" org.example.note="multi word"',
        'ENV PORT=8080 GREETING="héllo wörld"',
        "ARG BUILDARG=default",
        "WORKDIR /usr/src/app",
        SOURCE_NOTE.format("7d1b8e6c9123"),
        "COPY file:7d1b8e6c9123955c22ae5efea6309bc3436ed116b03932f650caae30c06ab651 ./",
        SOURCE_NOTE.format("e47477fa05c3"),
        "ADD file:e47477fa05c3cabbbf8899b6c53f854c07346a1f6c558472331448c6c87ba000 /data/",
        'RUN echo "日本語テキスト and ünïcödé chars in a fairly long RUN line" > /multibyte.txt'
        " && cat /multibyte.txt",
        "RUN printf 'a\\tb\\n' > /tabbed.txt &&\techo\t\"tab separated\"",
        "RUN mkdir -p /scratch/x && head -c 999999 /dev/zero > /scratch/x/big"
        " && rm -rf /usr/share/doc/debconf",
        "RUN rm /data/k1000.bin",
        "EXPOSE 8080 9090/udp",
        "USER nobody",
        "VOLUME /vol",
        'ENTRYPOINT ["/bin/sh", "-c"]',
        "CMD echo shell form $PORT",
        "",
    ]
)


def test_dfx_legacy_exact_text() -> None:
    r = reconstruct(*from_config("config-dfx-legacy.json"))
    assert r.text == LEGACY
    assert (r.base_rows, r.base_guess) == (1, "")
    assert r.spans[:2] == ((8, 8, 2), (9, 9, 3))
    assert [row for first, last, row in r.spans if first <= 13 <= last] == [6]
    assert [row for first, last, row in r.spans if first <= 12 <= last] == []
    assert [s.layer for s in r.steps[:6]] == [0, None, None, None, 1, 2]
    assert r.steps[0].base and not r.steps[1].base


@pytest.mark.parametrize(
    ("config", "dockerfile"),
    [
        ("config-dfx-legacy.json", "dockerfile-dfx-legacy.txt"),
        ("config-dfx-bk.json", "dockerfile-dfx-bk.txt"),
    ],
)
def test_matches_the_real_dockerfile(config: str, dockerfile: str) -> None:
    real = (EXAMPLES / dockerfile).read_text(encoding="utf-8")
    rebuilt = reconstruct(*from_config(config)).text
    same_modulo_history(rebuilt, real)
    assert len(final_stage(real)) == (15 if "legacy" in config else 16)


def test_legacy_multistage_rows_match_the_real_dockerfile() -> None:
    doc = json.loads((DATA / "rows-dfx-legacy-multi.json").read_text(encoding="utf-8"))
    rows = list(reversed(doc["rows"]))
    history = [
        entry(r["created_by"], layer=r["size"] > 0 or "WORKDIR" in r["created_by"]) for r in rows
    ]
    r = reconstruct(history)
    real = (EXAMPLES / "dockerfile-dfx-bk.txt").read_text(encoding="utf-8")
    same_modulo_history(r.text, real)
    assert (
        "COPY multi:53dfbae9887d48241dbfa475eb2b841baf21e7967fa46145291da5ae76ef33eb /out/\n"
        in r.text
    )
    assert "# unknown: the source (several sources): the classic builder" in r.text


def test_buildkit_copy_from_is_flagged() -> None:
    r = reconstruct(*from_config("config-dfx-bk.json"))
    lines = r.text.splitlines()
    at = lines.index("COPY /artifact.txt /blob.bin /out/")
    assert lines[at - 1] == (
        "# unknown: where the files came from: the history does not record --from, and "
        "absolute sources suggest COPY --from=<a stage or an image>"
    )
    assert "COPY hello.txt ./" in lines and "ADD k1000.bin /data/" in lines
    assert lines[-1] == 'CMD ["echo", "json form"]'


def test_official_alpine_pattern_gives_a_guess() -> None:
    r = reconstruct(
        [
            entry("/bin/sh -c #(nop) ADD file:0123abcd in / ", layer=True),
            entry('/bin/sh -c #(nop)  CMD ["/bin/sh"]'),
            bk("RUN /bin/sh -c apk add --no-cache curl # buildkit", layer=True),
        ]
    )
    assert (r.base_rows, r.base_guess) == (2, "alpine")
    assert r.text.splitlines()[2:] == [
        "# unknown: the base image's name (history rows 1-2, 1 layer)",
        "# rows 1-2 look like the official alpine image"
        " (a best guess from the pattern of its rows):",
        "#   ADD file:0123abcd /",
        '#   CMD ["/bin/sh"]',
        "FROM alpine",
        "RUN apk add --no-cache curl",
    ]


@pytest.mark.parametrize(
    ("rows", "guess"),
    [
        (
            [
                entry(
                    "# debian.sh --arch 'amd64' out/ 'bookworm' '@1741564800'",
                    layer=True,
                    comment="debuerreotype 0.15",
                ),
                bk('CMD ["bash"]'),
            ],
            "debian:bookworm",
        ),
        (
            [
                bk("ARG RELEASE"),
                bk("LABEL org.opencontainers.image.ref.name=ubuntu"),
                bk("LABEL org.opencontainers.image.version=24.04"),
                bk("ADD file:9a1b in / # buildkit", layer=True),
                bk('CMD ["/bin/bash"]'),
            ],
            "ubuntu:24.04",
        ),
        (
            [
                bk("ADD alpine-minirootfs-3.20.3-x86_64.tar.gz / # buildkit", layer=True),
                bk('CMD ["/bin/sh"]'),
            ],
            "alpine:3.20.3",
        ),
        (
            [
                entry("/bin/sh -c #(nop) ADD file:ab in / ", layer=True),
                entry('/bin/sh -c #(nop)  CMD ["sh"]'),
            ],
            "busybox",
        ),
    ],
)
def test_base_guesses(rows: list[HistoryEntry], guess: str) -> None:
    r = reconstruct([*rows, bk("USER app")])
    assert (r.base_rows, r.base_guess) == (len(rows), guess)
    assert f"FROM {guess}\nUSER app\n" in r.text


def test_unknown_base_becomes_a_stage() -> None:
    r = reconstruct(
        [
            entry("/bin/sh -c #(nop) ADD file:ab in / ", layer=True),
            entry('/bin/sh -c #(nop)  CMD ["bash"]'),
            entry("/bin/sh -c #(nop)  ENV NODE_VERSION=22.1.0"),
            entry("/bin/sh -c curl -fsSL node.tgz | tar -xz", layer=True),
            entry('/bin/sh -c #(nop)  CMD ["node"]'),
            bk("COPY . /app # buildkit", layer=True),
        ]
    )
    assert r.base_rows == 5
    body = r.text.split("\n", 2)[2]
    assert body == (
        "# unknown: the base image's name (history rows 1-5, 2 layers)\n"
        "# rows 1-2 look like the official debian image"
        " (a best guess from the pattern of its rows):\n"
        "#   ADD file:ab /\n"
        '#   CMD ["bash"]\n'
        "FROM debian AS base\n"
        "ENV NODE_VERSION=22.1.0\n"
        "RUN curl -fsSL node.tgz | tar -xz\n"
        'CMD ["node"]\n'
        "\n"
        "FROM base\n"
        "COPY . /app\n"
    )


def test_only_a_rootfs_has_no_base() -> None:
    r = reconstruct(
        [
            entry("/bin/sh -c #(nop) ADD file:ab in / ", layer=True),
            entry('/bin/sh -c #(nop)  CMD ["/bin/sh"]'),
        ]
    )
    assert r.base_rows == 0
    assert r.text.endswith(
        "FROM scratch\n" + SOURCE_NOTE.format("ab") + '\nADD file:ab /\nCMD ["/bin/sh"]\n'
    )


def test_build_args_become_arg_lines() -> None:
    r = reconstruct(
        [
            bk("ARG A=1"),
            bk("RUN |3 A=2 NPM_TOKEN=npm_x B=two words /bin/sh -c make # buildkit", layer=True),
        ]
    )
    step = r.steps[1]
    assert step.text == 'ARG NPM_TOKEN=npm_x\nARG B="two words"\nRUN make'
    assert step.notes == (
        "ARG NPM_TOKEN, B from the |N prefix of this RUN"
        " (declared before FROM or in the base image)",
        "the build set A=2 (--build-arg)",
    )
    assert r.spans[-1][2] == 2 and r.spans[-1][1] - r.spans[-1][0] == 2


def test_heredoc_runs() -> None:
    r = reconstruct(
        [
            bk("RUN /bin/sh -c apt-get update\napt-get install -y curl\n # buildkit", layer=True),
            bk("RUN /bin/sh -c python3 <<PY\nprint(1)\nPY # buildkit", layer=True),
            bk("RUN /dev/pipes/EOF # buildkit", layer=True),
        ]
    )
    assert [s.text for s in r.steps] == [
        "RUN <<EOF\napt-get update\napt-get install -y curl\nEOF",
        "RUN python3 <<PY\nprint(1)\nPY",
        "RUN <<EOF\nEOF",
    ]
    assert r.steps[2].notes[0].startswith("unknown: the script of this heredoc: it began with #!")
    parsed = parse(r.text)
    assert not parsed.problems
    assert [i.heredocs[0].body for i in parsed.instructions if i.heredocs] == [
        "apt-get update\napt-get install -y curl\n",
        "print(1)\n",
        "",
    ]


def test_shell_instruction_changes_how_rows_read() -> None:
    r = reconstruct(
        [
            entry("/bin/sh -c #(nop)  SHELL [/bin/bash -o pipefail -c]"),
            entry("/bin/bash -o pipefail -c curl -s x | sh", layer=True),
            entry('/bin/sh -c #(nop)  CMD ["/bin/bash" "-o" "pipefail" "-c" "serve --port 80"]'),
            entry('/bin/sh -c #(nop)  ENTRYPOINT ["tini" "--"]'),
        ]
    )
    assert [s.text for s in r.steps] == [
        'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
        "RUN curl -s x | sh",
        "CMD serve --port 80",
        'ENTRYPOINT ["tini", "--"]',
    ]


def test_metadata_forms() -> None:
    config = {
        "Env": ["A=x B=y", "C=z"],
        "Healthcheck": {
            "Test": ["CMD-SHELL", "curl -f http://localhost/"],
            "Interval": 30_000_000_000,
            "Retries": 3,
        },
        "OnBuild": ["RUN make"],
    }
    r = reconstruct(
        [
            bk("ENV A=x B=y C=z"),
            bk("EXPOSE map[80/tcp:{} 53/udp:{}]"),
            bk("VOLUME [/a /b]"),
            bk("STOPSIGNAL SIGQUIT"),
            bk("HEALTHCHECK {Test:[CMD-SHELL curl -f http://localhost/] Interval:30s}"),
            entry("/bin/sh -c #(nop) COPY --chown=1000:1000 dir:abc in /app "),
            entry("bazel build //app:image", layer=True),
        ],
        config,
    )
    assert [s.text for s in r.steps] == [
        'ENV A="x B=y" C=z',
        "EXPOSE 80 53/udp",
        "VOLUME /a /b",
        "STOPSIGNAL SIGQUIT",
        "HEALTHCHECK --interval=30s --retries=3 CMD curl -f http://localhost/",
        "COPY --chown=1000:1000 dir:abc /app",
        "",
    ]
    assert r.steps[6].notes == (
        "not a Dockerfile instruction (another tool made it): 'bazel build //app:image'",
    )
    assert r.steps[6].builder == "other"
    assert r.text.endswith(
        "# from the config: BuildKit does not record ONBUILD in the history\nONBUILD RUN make\n"
    )


def test_with_rows() -> None:
    r = reconstruct(
        [
            entry("/bin/sh -c #(nop) WORKDIR /app", layer=True),
            entry("/bin/sh -c #(nop) COPY file:ab in . ", layer=True),
        ]
    )
    assert r.with_rows().split("\n")[2:] == [
        "# unknown: the base image: the history does not start with a rootfs",
        "FROM scratch",
        "# row 1",
        "WORKDIR /app",
        "# row 2",
        SOURCE_NOTE.format("ab"),
        "COPY file:ab .",
        "",
    ]


def test_go_list_and_quote() -> None:
    assert go_list('["a" "b c" "d\\"e" "tab\\there" "\\u00e9\\x41"]') == [
        "a",
        "b c",
        'd"e',
        "tab\there",
        "éA",
    ]
    assert go_list("[/vol]") is None
    assert go_list("[]") == []
    assert quote("plain") == "plain"
    assert quote("two words") == '"two words"'
    assert quote('a"$b\\') == '"a\\"\\$b\\\\"'
    assert quote("") == '""'


def test_empty_history() -> None:
    r = reconstruct([])
    assert r.steps == () and r.spans == ()
    assert r.text.endswith("FROM scratch\n")
