"""The analyze text report as people read it: the terminal's width, long paths cut in the
middle with the file name kept, directories and bloat by bytes, small recommendations in
one line, the CI verdict in one unit per rule."""

from __future__ import annotations

from deadweight import static as S
from deadweight.analysis.analyze import analyze
from deadweight.analysis.report import Analysis
from deadweight.analysis.rules import Rules, evaluate
from deadweight.render.analyze import render_text
from deadweight.render.text import middle_cut

DEEP = "usr/local/lib/node_modules/npm/node_modules/@npmcli/arborist/lib/arborist/reify-tree.js"


def wasteful() -> Analysis:
    return analyze(
        S.image(
            [
                S.Step(
                    "ADD rootfs.tar /", S.layer([S.File("etc/passwd", b"root:x:0:0::/:/bin/sh\n")])
                ),
                S.Step(
                    "RUN npm install -g npm@10",
                    S.layer(
                        [
                            S.File(DEEP, b"x" * 300_000),
                            S.File("usr/share/doc/a/README", b"d" * 200_000),
                            S.File("root/.npm/_cacache/x", b"c" * 50_000),
                            S.File("srv/zzz/big.bin", b"b" * 900_000),
                            S.File("aaa/small", b"s" * 10),
                        ]
                    ),
                ),
                S.Step(
                    "RUN rm -rf /usr/local/lib/node_modules",
                    S.layer([S.Whiteout("usr/local/lib/node_modules")]),
                ),
                S.Step(
                    "RUN useradd app",
                    S.layer([S.File("etc/passwd", b"root:x:0:0::/:/bin/sh\napp\n")]),
                ),
            ]
        ),
    )


def test_middle_cut_keeps_the_file_name() -> None:
    cut = middle_cut("/" + DEEP, 40)
    assert len(cut) == 40 and cut.endswith("/reify-tree.js") and cut.startswith("/usr/")
    assert "…" in cut
    assert middle_cut("/short/path", 40) == "/short/path"
    assert middle_cut("/a/" + "n" * 50, 10) == "nnnnn…nnnn"


def test_middle_cut_of_a_name_longer_than_the_room_keeps_its_start_and_end() -> None:
    wheel = "/tmp/wheels/numpy-2.2.6-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
    cut = middle_cut(wheel, 42)
    assert len(cut) == 42
    assert cut.startswith("…/numpy-2.2.6-") and cut.endswith("_x86_64.whl")
    assert middle_cut("x" * 30 + ".tar.gz", 11) == "xxxxx…ar.gz"


def test_wide_terminal_shows_whole_paths() -> None:
    text = render_text(wasteful(), width=200)
    assert "/" + DEEP in text
    assert max(len(line) for line in text.splitlines()) > 110


def test_narrow_terminal_cuts_the_middle() -> None:
    text = render_text(wasteful(), width=100)
    row = next(line for line in text.splitlines() if "reify-tree.js" in line)
    assert "…" in row and "/usr/" in row
    assert "node_mod…" not in row
    # tables fit; prose lines (recommendations) are left for the terminal to wrap
    assert max(len(line) for line in text.splitlines() if "│" in line) <= 100


def test_biggest_directories_and_bloat_are_sorted_by_bytes() -> None:
    a = wasteful()
    lines = render_text(a, width=120).splitlines()
    start = lines.index("Biggest directories")
    tops = [line.split()[2] for line in lines[start + 1 :] if line.startswith(("├──", "└──"))]
    sizes = {s.path: s.bytes for s in a.largest_dirs}
    assert tops[:2] == ["/srv", "/usr"]
    assert [sizes[t[1:]] for t in tops] == sorted((sizes[t[1:]] for t in tops), reverse=True)
    bloat = next(i for i, x in enumerate(lines) if x.startswith("Bloat in the final image"))
    cats = [line.split("│")[1].strip() for line in lines[bloat + 3 :] if "│" in line][:2]
    assert cats == ["docs", "npm-cache"]


def test_small_recommendations_are_one_line() -> None:
    a = wasteful()
    small = [r for r in a.recommendations if r.bytes < 12_000]
    assert small, "the fixture must hold a recommendation under 1% of the image"
    text = render_text(a, width=120)
    assert "save 23B" not in text
    assert f"  {len(small)} smaller one(s), " in text and "(--min-saving 0 lists them)" in text
    everything = render_text(a, width=120, min_saving=0)
    assert "smaller one(s)" not in everything
    assert everything.count(". save ") == len(a.recommendations)


def test_ci_verdict_limits_are_in_the_unit_of_the_figure() -> None:
    verdict = evaluate(wasteful(), Rules(max_wasted_percent=0.99, min_efficiency=0.1))
    text = render_text(wasteful(), verdict, width=120)
    line = next(x for x in text.splitlines() if "max-wasted-percent" in x)
    assert line.endswith("% (limit 99.00%)"), line


def test_one_layer_is_said_in_the_singular() -> None:
    one = analyze(S.image([S.Step("ADD rootfs.tar /", S.layer([S.File("etc/hostname", b"x")]))]))
    assert "  size 1B in 1 layer; final file system 1B\n" in render_text(one, width=120)
    assert " in 4 layers; " in render_text(wasteful(), width=120)
