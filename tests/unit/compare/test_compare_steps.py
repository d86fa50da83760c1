"""Step alignment in a gap pairs the most similar same-keyword steps, in build order."""

from __future__ import annotations

from deadweight.compare.steps import Step, align


def _steps(side: str, *instructions: str) -> list[Step]:
    """Steps whose diff_ids differ between sides: nothing is the same layer."""
    return [Step(i, f"sha256:{side}{i}", s, 10 * (i + 1)) for i, s in enumerate(instructions)]


def test_gap_pairs_by_shared_words_not_position() -> None:
    a = _steps("a", "RUN npm install -g npm@8.5.1", "WORKDIR /usr/src/app", "RUN npm install")
    b = _steps(
        "b", "RUN apk add --update nodejs npm", "RUN adduser -D backend", "RUN npm ci --omit=dev"
    )
    got = [(c.status, c.a_instruction, c.b_instruction) for c in align(a, b)]
    assert got == [
        ("changed", "RUN npm install -g npm@8.5.1", "RUN apk add --update nodejs npm"),
        ("removed", "WORKDIR /usr/src/app", ""),
        ("added", "", "RUN adduser -D backend"),
        ("changed", "RUN npm install", "RUN npm ci --omit=dev"),
    ]


def test_different_keywords_never_pair() -> None:
    got = [c.status for c in align(_steps("a", "COPY . ."), _steps("b", "RUN make"))]
    assert got == ["removed", "added"]


def test_shared_registry_layers_are_not_streamed_to_size_them() -> None:
    """A shared layer only a download could size stays unread; the delta is still exact."""
    import io

    from deadweight import static
    from deadweight.compare import compare
    from deadweight.image import Layer

    base = static.layer([static.File("base.bin", b"b" * 5000)])
    opened: list[str] = []

    def download() -> io.BytesIO:
        opened.append(base.diff_id)
        return io.BytesIO(b"")

    remote = Layer(base.diff_id, base.blob, download)  # not seekable, size unknown
    one = static.layer([static.File("app", b"1" * 100)])
    two = static.layer([static.File("app", b"2" * 250)])
    a = static.image([static.Step("ADD base", remote), static.Step("RUN make", one)])
    b = static.image([static.Step("ADD base", remote), static.Step("RUN make", two)])

    lazy = compare(a, b, size_shared=False)
    assert opened == []
    assert (lazy.sizes_known, lazy.a.size, lazy.b.size, lazy.delta) == (False, 100, 250, 150)

    sized = compare(static.image([static.Step("ADD base", base), static.Step("RUN make", one)]),
                    static.image([static.Step("ADD base", base), static.Step("RUN make", two)]),
                    size_shared=False)  # fmt: skip
    assert (sized.sizes_known, sized.a.size, sized.delta) == (True, 5100, 150)


def test_step_lines_are_cut_and_aligned_by_display_width() -> None:
    """A CJK character or an emoji takes two columns: cut as history cuts CREATED BY, the
    size after a removed or added step starts in the same column whatever the text."""
    from deadweight import static
    from deadweight.compare import compare
    from deadweight.render.diff import summary
    from deadweight.render.text import char_width

    def step(text: str, n: int) -> static.Step:
        return static.Step(text, static.layer([static.File(f"f{n}", b"x" * n)]))

    a = static.image([step("RUN echo ascii", 1), step("RUN echo " + "😀" * 40, 2)])
    b = static.image([step("RUN make 日本語", 3)])
    lines = [line for line in summary(compare(a, b)) if " step " in line]
    assert len(lines) == 2  # the first RUN pair is changed, the emoji one removed
    removed = next(line for line in lines if "removed step" in line)
    cell = removed.removeprefix("  removed step    ").rsplit(" ", 1)[0]
    assert sum(map(char_width, cell)) == 56  # cut and padded to the column width
    assert cell.rstrip().endswith("…")
    changed = next(line for line in lines if "changed step" in line)
    assert "RUN make 日本語" in changed
