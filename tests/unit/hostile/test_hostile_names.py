"""File names an image may hold that are hostile to what shows them (the second campaign
after issue 16): bytes that are not UTF-8 (read as surrogate escapes, U+DC80..U+DCFF) and
control characters, terminal escape sequences and bidi overrides."""

from __future__ import annotations

import tarfile
from pathlib import Path

import hostile_shapes as shapes
import pytest
from click.testing import CliRunner

from deadweight.cli._group import cli

NOT_UTF8 = "opt/caf\udce9.txt"  # a Latin-1 "café": byte 0xE9 alone is no UTF-8


def layer(names: list[str], size: int) -> bytes:
    infos = []
    for name in names:
        info = tarfile.TarInfo(name)
        info.size = size
        infos.append(info)
    return shapes.tar_of(infos, {name: b"x" * size for name in names})


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DEADWEIGHT_CACHE_DIR", str(tmp_path / "cache"))
    # with CI set, analyze also judges the image by the CI rules (exit 1 on these tiny
    # wasteful images): these tests are about names, not that gate
    monkeypatch.delenv("CI", raising=False)
    return tmp_path


@pytest.mark.parametrize("store", [True, False])
def test_a_name_that_is_not_utf8_is_analyzed(cache: Path, store: bool) -> None:
    # the reading helper encodes each layer's entries (JSON, UTF-8) for this process and
    # the layer store: such a name made that an internal error. The layer is now read in
    # this process and not stored; the output names the file by its bytes.
    archive = shapes.docker_archive(
        cache / "a.tar", [layer([NOT_UTF8, "opt/b"], 1_000_000), layer([NOT_UTF8], 2_000_000)]
    )
    args = ["analyze", f"docker-archive:{archive}", *([] if store else ["--no-cache"])]
    for _ in range(2):  # the second run finds nothing stored for that layer: read again
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert "internal error" not in result.output
        assert b"/opt/caf\xe9.txt" in result.stdout_bytes


def test_a_name_that_is_not_utf8_is_scanned(cache: Path) -> None:
    # a scan's worker sends each layer's delta back encoded (JSON): such a name was a Dask
    # task failure with a logged traceback, and the image went unscanned. The delta now
    # travels pickled (as Dask sends everything) and is not stored.
    from deadweight.cluster.work import LayerJob, decode, read_layer_job, storable
    from deadweight.sources import list_images

    archive = shapes.docker_archive(cache / "a.tar", [layer([NOT_UTF8, "opt/b"], 10)])
    reader = f"docker-archive:{archive}"
    (image,) = list_images(reader)
    result = read_layer_job(LayerJob(image.layers[0].diff_id, reader, None, False, "sha256"))
    assert result.error == "" and result.delta is not None and not storable(result.delta)
    delta = decode(result.delta)
    assert delta is not None
    assert sorted(e.path for e in delta.entries) == ["opt/b", NOT_UTF8]

    for _ in range(2):  # nothing stored: the second scan reads the layer again
        scanned = CliRunner().invoke(cli, ["scan", "--workers", "0", reader])
        assert scanned.exit_code == 0, scanned.output
        assert "1 images (0 failed)" in scanned.output


ESCAPES = "etc/x\x1b[2J\x1b[31mred\u202eevil\x07\x9b1m"  # clears the screen, turns red, ...


@pytest.mark.parametrize("colour", [False, True])
def test_a_name_with_escape_sequences_is_shown_on_a_terminal_not_acted_on(
    cache: Path, monkeypatch: pytest.MonkeyPatch, colour: bool
) -> None:
    from deadweight.cli import _terminal

    a = shapes.docker_archive(cache / "a.tar", [layer(["etc/a"], 10)])
    b = shapes.docker_archive(cache / "b.tar", [layer(["etc/a"], 10), layer([ESCAPES], 10)])
    args = ["diff", f"docker-archive:{a}", f"docker-archive:{b}"]
    piped = CliRunner().invoke(cli, args)
    assert piped.exit_code == 0, piped.output
    assert ESCAPES in piped.output  # a pipe gets the name's characters as they are

    monkeypatch.setattr(_terminal, "on_terminal", lambda: True)
    if not colour:
        monkeypatch.setenv("NO_COLOR", "1")
    shown = CliRunner().invoke(cli, args)
    assert shown.exit_code == 0, shown.output
    assert "etc/x\\x1b[2J\\x1b[31mred\\u202eevil\\x07\\x9b1m" in shown.output
    for acted_on in ("\x1b[2J", "\x1b[31mred", "\u202e", "\x07", "\x9b"):
        assert acted_on not in shown.output


def test_an_error_naming_a_path_with_escape_sequences_is_one_safe_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from deadweight.cli._errors import guarded
    from deadweight.errors import NotFound

    def fails() -> None:
        raise NotFound(f"/{ESCAPES}\udce9: no such file in hostile:1")

    with pytest.raises(SystemExit) as exit_:
        guarded(fails)
    assert exit_.value.code == 3
    err = capsys.readouterr().err
    assert err == (
        "deadweight: error: /etc/x\\x1b[2J\\x1b[31mred\\u202eevil\\x07\\x9b1m\\xe9: "
        "no such file in hostile:1\n"
    )


def test_colour_passes_to_a_terminal_but_a_sequence_that_conceals() -> None:
    from deadweight.cli._terminal import for_terminal

    text = "\x1b[1;91merror\x1b[0m a\x1b[8mhidden\x1b[0m caf\u00e9 \u4e2d\ttab\n"
    assert for_terminal(text, colour=True) == (
        "\x1b[1;91merror\x1b[0m a\\x1b[8mhidden\x1b[0m caf\u00e9 \u4e2d\ttab\n"
    )
    assert for_terminal("plain text, caf\u00e9\n") == "plain text, caf\u00e9\n"


def test_the_explorer_shows_escape_sequences_in_names_and_previews() -> None:
    # textual writes a Text's characters to the terminal as they are, ESC included
    pytest.importorskip("textual")  # an optional extra; dev installs it
    from deadweight.tui.app import label, preview_text
    from deadweight.tui.model import Row

    row = Row(ESCAPES, ESCAPES.rpartition("/")[2], "file", 10, "", False)
    shown = label(row, False, None).plain  # type: ignore[arg-type]
    assert "x\\x1b[2J\\x1b[31mred\\u202eevil\\x07\\x9b1m" in shown
    assert "\x1b" not in shown and "\u202e" not in shown

    data = b"line 1\n\x1b]0;owned\x07\x1b[2Jline 2\tend\n"  # sets the title, clears
    preview = preview_text(data, len(data)).plain
    assert preview == "line 1\n\\x1b]0;owned\\x07\\x1b[2Jline 2\tend\n"


def test_reports_written_to_files_name_a_name_that_is_not_utf8_by_its_bytes(cache: Path) -> None:
    # --html and -o wrote their text as strict UTF-8: an internal error for such a name
    a = shapes.docker_archive(cache / "a.tar", [layer(["opt/b"], 1_000_000)])
    b = shapes.docker_archive(
        cache / "b.tar", [layer(["opt/b"], 1_000_000), layer([NOT_UTF8], 2_000_000)]
    )
    runs = {
        "analyze.html": ["analyze", "--html", str(cache / "analyze.html"), f"docker-archive:{b}"],
        "diff.html": [
            "diff", "--html", str(cache / "diff.html"), f"docker-archive:{a}", f"docker-archive:{b}"
        ],
        "analyze.json": [
            "analyze", "--json-report", str(cache / "analyze.json"), f"docker-archive:{b}"
        ],
    }  # fmt: skip
    for name, args in runs.items():
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, (name, result.output, result.exception)
        assert b"caf\xe9.txt" in (cache / name).read_bytes(), name


def test_a_keep_file_naming_a_name_that_is_not_utf8_is_read_back(cache: Path) -> None:
    # --write-keep-file writes such a name's bytes; --keep-file read it as strict UTF-8:
    # an internal error. Both now agree, and the name is kept.
    archive = shapes.docker_archive(cache / "a.tar", [layer([NOT_UTF8, "opt/b"], 10)])
    keep = cache / "keep.txt"
    keep.write_bytes(b"# kept\n/opt/caf\xe9.txt\n")
    result = CliRunner().invoke(
        cli,
        ["minify", "--static", "--keep-file", str(keep), "--write-keep-file",
         str(cache / "again.txt"), f"docker-archive:{archive}", "-o",
         f"docker-archive:{cache / 'out.tar'}"],
    )  # fmt: skip
    assert result.exit_code == 0, (result.output, result.exception)
    assert b"/opt/caf\xe9.txt\n" in (cache / "again.txt").read_bytes()
