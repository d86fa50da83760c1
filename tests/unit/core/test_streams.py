"""``streams.Window``: a region of an open file as a seekable file of its own."""

from __future__ import annotations

import io

from deadweight.streams import Window


def test_windows_share_one_file_and_stay_inside_their_region() -> None:
    f = io.BytesIO(b"0123456789abcdef")
    a, b = Window(f, 2, 4), Window(f, 10, 6)
    assert a.read(2) == b"23"
    assert b.read() == b"abcdef"
    assert a.read() == b"45"  # b moved f; a seeks it back
    assert a.read() == b""
    assert a.seek(-1, io.SEEK_END) == 3 and a.read() == b"5"
    assert a.seek(100) == 4 and a.read(10) == b""
    assert io.BufferedReader(Window(f, 0, 3)).read() == b"012"


def test_a_file_that_ends_inside_the_window_reads_short() -> None:
    ends: list[int] = []

    class Noting(Window):
        def short(self) -> None:
            ends.append(self.tell())

    w = Noting(io.BytesIO(b"abc"), 1, 10)
    assert w.read() == b"bc"
    assert ends == [2]
