"""Every read-only command on the story images prints exactly what it printed before.

The golden files under ``golden/`` are main's output, captured before the refactors of
issue 11 (reading, media, a thin CLI, optimize computing once) and recorded once more
when two changes of output meant by them had landed (optimize's layer table, analyze's
per-layer bytes); the image's name in ``lint IMAGE`` and ``optimize`` then changed on
purpose (``Image.name``: its tag, as the other commands said; those lines edited by hand,
the rest untouched); a refactor that changes one byte of a command's standard output fails
here. Record them again only for a change
of output that is meant, with ``DEADWEIGHT_GOLDEN_UPDATE=1``, and say so in the commit.

The story images are built in each session, so what a build decides differently each
time is normalized, explicitly and nothing else (``normalize``):

* the session's work directory (paths of the archives) becomes ``<story>``;
* hexadecimal digests and IDs (12 to 64 digits) become ``<hex-N>``, numbered by first
  appearance of their first 12 digits in that output, so equal IDs stay equal, different
  IDs stay different, and a short ID stays tied to its full digest;
* timestamps (RFC 3339, and Go's ``2006-01-02 15:04:05 -0700 MST``) become ``<time>``,
  and relative ages (``5 minutes ago``), with the padding after them in a table, ``<ago>``
  (and the padding after the ``CREATED`` header above them, which follows their width);
* sizes rounded for people (``499MB``, ``60.1MB``) are not normalized: they were equal on
  three independent builds. Exact byte counts are not reproducible: pip and npm write
  their caches and logs with timestamps, so a few layers differ by a few bytes from one
  build to the next. In the outputs that print exact counts (``_EXACT``: JSON documents,
  ``-H=false``, inspect, lint's messages), every run of four or more digits becomes
  ``<n>``; the rest of those outputs (keys, paths, order, small numbers) is compared as
  is, on the python app. Order follows exact sizes (diff lists the largest first), so a
  file whose size moves between builds must not sit next to one of nearly its size: the
  wheel pip compiles is built without debug information, which named pip's random build
  directory and moved the wheel by a byte or two (``story_fixtures``); the node app's npm
  logs are also *named* by the time they were written, so on the node app only the
  outputs with rounded sizes are compared.

Each command runs twice, with the layer store cold then warm, and both (normalized)
outputs must be equal, so anything that varies per *run* shows up rather than hides.

``export`` writes files: its golden is its report (on standard error) plus a listing of
what it wrote (path, type, mode, size, link target; no mtimes, which are the build's); the
listing of a whole image is an exact output (its pip cache holds a wheel the build
compiles), one of selected paths is not.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
from pathlib import Path

import pytest
from story_fixtures import Story

pytestmark = pytest.mark.integration

# DEADWEIGHT_GOLDEN_DIR: record elsewhere, to compare two checkouts side by side
GOLDEN = Path(os.environ.get("DEADWEIGHT_GOLDEN_DIR") or Path(__file__).parent / "golden")
UPDATE = os.environ.get("DEADWEIGHT_GOLDEN_UPDATE") == "1"

HISTORY_TEMPLATE = "{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}"
INSPECT_TEMPLATE = "{{.Os}}/{{.Architecture}} {{json .Config.Cmd}} {{.Config.WorkingDir}}"

# (golden name, command, arguments); {node} and {python} are the saved story archives,
# {slim} the python app's base on the session's engine. Every command runs on the python
# app; on the node app, only those whose output rounds sizes (see the module doc).
_EXACT = {
    "history-raw",
    "inspect",
    "analyze-json",
    "lint",
    "lint-json",
    "optimize-dry-run",
    "optimize-dry-run-moderate-json",
    "base-json",
}
COMMANDS: list[tuple[str, str, tuple[str, ...]]] = []
for _app in ("python", "node"):
    _img = f"docker-archive:{{{_app}}}"
    COMMANDS += [
        (f"{_app}-{name}", command, args)
        for name, command, args in [
            ("images", "images", (_img,)),
            ("images-digests", "images", (_img, "--digests", "--no-trunc")),
            ("history", "history", (_img,)),
            ("history-raw", "history", (_img, "--no-trunc", "-H=false")),
            ("history-format", "history", (_img, "--format", HISTORY_TEMPLATE)),
            ("inspect", "inspect", (_img,)),
            ("inspect-format", "inspect", (_img, "--format", INSPECT_TEMPLATE)),
            ("dockerfile", "dockerfile", (_img,)),
            ("analyze", "analyze", (_img,)),
            ("analyze-json", "analyze", (_img, "--format", "json")),
            ("lint", "lint", (_img, "--failure-threshold", "none")),
            ("lint-json", "lint", (_img, "--format", "json", "--failure-threshold", "none")),
            ("optimize-dry-run", "optimize", (_img, "--dry-run")),
            ("optimize-dry-run-moderate-json", "optimize",
             (_img, "--dry-run", "--level", "moderate", "--format", "json")),
        ]
        if _app == "python" or name not in _EXACT
    ]  # fmt: skip
COMMANDS += [
    ("node-cat", "cat", ("docker-archive:{node}", "/app/package.json")),
    ("python-cat", "cat", ("docker-archive:{python}", "/app/requirements.txt")),
    ("diff", "diff", ("docker-archive:{node}", "docker-archive:{python}")),
    ("diff-file", "diff",
     ("docker-archive:{node}", "docker-archive:{python}", "--file", "/etc/passwd")),
    ("diff-base", "diff", ("docker-daemon:{slim}", "docker-archive:{python}")),
    ("diff-base-json", "diff",
     ("docker-daemon:{slim}", "docker-archive:{python}", "--format", "json")),
    ("diff-base-file", "diff",
     ("docker-daemon:{slim}", "docker-archive:{python}", "--file", "/var/lib/dpkg/status")),
]  # fmt: skip
# (golden name): (app, PATHs); no PATH exports the whole image
EXPORTS = {
    "node-export": ("node", ("/app", "/usr/local/bin", "/etc")),
    "python-export": ("python", ("/app", "/usr/local")),
    "python-export-all": ("python", ()),
}

_HEX = re.compile(r"(?<![0-9a-f])[0-9a-f]{12,64}(?![0-9a-f])")
_TIME = re.compile(
    r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?(?: [A-Z]{3,5})?"
)
_DIGITS = re.compile(r"\d{4,}")
_CREATED = re.compile(r"\bCREATED {2,}")
_AGO = re.compile(
    r"(?:\d+ (?:second|minute|hour|day|week|month|year)s?|About (?:a|an) \w+|"
    r"Less than a second) ago( {2,})?"
)


def normalize(text: str, work: Path, *, exact: bool = False) -> str:
    """What a build or a session decides differently, replaced (see the module doc)."""
    text = text.replace(str(work), "<story>")
    ids: dict[str, int] = {}

    def hexid(match: re.Match[str]) -> str:
        n = ids.setdefault(match.group(0)[:12], len(ids) + 1)
        return f"<hex-{n}>"

    text = _HEX.sub(hexid, text)
    text = _TIME.sub("<time>", text)
    aged = _AGO.sub(lambda m: "<ago>" + ("   " if m.group(1) else ""), text)
    # the age column's width follows its widest age: its header's padding goes with it
    text = _CREATED.sub("CREATED   ", aged) if aged != text else aged
    return _DIGITS.sub("<n>", text) if exact else text


def listing(root: Path) -> str:
    """What ``export`` wrote: one line per entry, sorted, without mtimes."""
    lines = []
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        kind = stat.S_IFMT(info.st_mode)
        line = f"{path.relative_to(root)} {stat.filemode(info.st_mode)}"
        if kind == stat.S_IFREG:
            line += f" {info.st_size}"
        elif kind == stat.S_IFLNK:
            line += f" -> {os.readlink(path)}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def check(name: str, actual: str) -> None:
    golden = GOLDEN / f"{name}.txt"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(actual)
        return
    assert golden.is_file(), (
        f"no golden file {golden.name} (record with DEADWEIGHT_GOLDEN_UPDATE=1)"
    )
    expected = golden.read_text()
    if actual != expected:  # a short diff: pytest's own would compare megabytes
        lines = difflib.unified_diff(
            expected.splitlines(True), actual.splitlines(True), golden.name, "now", n=1
        )
        pytest.fail(f"{name}: output differs\n{''.join(list(lines)[:80])}", pytrace=False)


def _with_paths(arg: str, saved: dict[str, str]) -> str:
    """``docker-archive:{node}`` with the saved archive's path (templates left alone)."""
    transport, _, rest = arg.partition(":")
    return f"{transport}:{saved[rest]}" if rest in saved else arg


def run(
    story: Story, command: str, args: tuple[str, ...], cwd: Path, *, stderr: bool = False
) -> tuple[int, str]:
    saved = {
        "{node}": str(story.node.saved),
        "{python}": str(story.python.saved),
        "{slim}": "python:3.11-slim",
    }
    args = tuple(_with_paths(a, saved) for a in args)
    proc = story.engine.deadweight(command, *args, cwd=cwd)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stderr if stderr else proc.stdout


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A directory, and a layer store in it, of the test's own: each command starts cold."""
    return tmp_path


@pytest.mark.parametrize(("name", "command", "args"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_output_is_byte_identical_to_golden(
    story: Story, work: Path, name: str, command: str, args: tuple[str, ...]
) -> None:
    exact = name.partition("-")[2] in _EXACT
    code, out = run(story, command, args, work)
    text = f"exit {code}\n" + normalize(out, story.workdir, exact=exact)
    # once with the layer store cold, once warm: both must print the same (normalized:
    # a minute may pass between them) bytes
    again_code, again = run(story, command, args, work)
    if text != f"exit {again_code}\n" + normalize(again, story.workdir, exact=exact):
        pytest.fail(f"{name}: a second run (layer store warm) printed otherwise", pytrace=False)
    check(name, text)


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_export_writes_the_golden_tree(story: Story, work: Path, name: str) -> None:
    app, paths = EXPORTS[name]
    dest = work / "export"
    args = (f"docker-archive:{getattr(story, app).saved}", *paths, "-o", str(dest))
    code, out = run(story, "export", args, work, stderr=True)
    assert code == 0, out
    text = f"exit {code}\n" + normalize(out.replace(str(dest), "<dest>"), story.workdir)
    tree = listing(dest)
    # the whole image holds pip's cache, whose wheel a build compiles a byte or two apart
    check(name, text + "--- tree\n" + (_DIGITS.sub("<n>", tree) if not paths else tree))
