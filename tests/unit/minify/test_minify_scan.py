"""minify's scan reads wanted files through the one tar reader: ELF bytes to the spool,
scripts' and metadata's text, whatever pieces the stream hands out."""

from __future__ import annotations

from deadweight import static as S
from deadweight.filetree.tree import stack
from deadweight.minify.scan import MAX_SCRIPT, ElfFiles, _Kept, scan
from deadweight.reading import read_deltas

ELF = b"\x7fELF" + bytes(60)
PASSWD = b"root:x:0:0:root:/root:/bin/sh\n"


def test_what_the_scan_keeps_of_each_file() -> None:
    files = [
        S.File("usr/lib/libx.so.1", ELF),
        S.File("app/run.sh", b"#!/bin/sh\necho hi\n", mode=0o755),
        S.File("app/t.sh", b"ab"),  # shorter than the four bytes that decide
        S.File("etc/passwd", PASSWD),
        S.File("usr/bin/big", b"#!" + b"x" * MAX_SCRIPT, mode=0o755),  # too large to read
        S.File("usr/bin/tool", b"plain data", mode=0o755),
    ]
    image = S.image([S.Step("ADD x /", S.layer(files)), S.Step("RUN x", S.layer([]))])
    found = scan(image, stack(read_deltas(image, capture=None)))
    assert found.texts == {
        "app/run.sh": b"#!/bin/sh\necho hi\n",
        "app/t.sh": b"ab",
        "etc/passwd": PASSWD,
    }
    assert found.elf.magic("usr/lib/libx.so.1") and not found.elf.magic("usr/bin/tool")
    assert found.read("usr/lib/libx.so.1") == b"\x7fELF"


def test_a_head_split_between_pieces() -> None:
    elf = ElfFiles()
    kept = _Kept("usr/lib/liby.so", len(ELF), elf)
    for piece in (ELF[:1], ELF[1:3], ELF[3:10], memoryview(ELF)[10:]):
        kept.take(piece)
    kept.keep(["usr/lib/liby.so", "usr/lib/liby.so.2"], {})
    assert elf.magic("usr/lib/liby.so") and elf.magic("usr/lib/liby.so.2")
    texts: dict[str, bytes] = {}
    script = _Kept("app/go", 12, elf)
    for piece in (b"#", b"!/bin", b"/sh\nx\n"):
        script.take(piece)
    script.keep(["app/go"], texts)
    assert texts == {"app/go": b"#!/bin/sh\nx\n"}
