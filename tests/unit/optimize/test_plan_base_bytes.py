"""What a plan says about bytes it cannot reach with ``--squash own``: docs, man pages and
locales that only the base layers hold are listed as not done, with the option that would
do them; and the text report never prints a negative saving nor a wall of 0B folders."""

from __future__ import annotations

from deadweight import static as S
from deadweight.image import Image
from deadweight.optimize import Report, Skipped, plan
from deadweight.render.optimize import render_text


def image(extras: int = 0) -> Image:
    base: list[S.Entry] = [
        S.Dir("etc"),
        S.File("etc/os-release", b"base\n"),
        S.File("usr/share/doc/libc/copyright", b"d" * 4000),
        S.File("usr/share/man/man1/ls.1.gz", b"m" * 2000),
        S.File("usr/share/locale/fr/LC_MESSAGES/libc.mo", b"l" * 3000),
    ]
    own: list[S.Entry] = [
        S.File("usr/share/doc/app/README", b"r" * 100),
        S.File("app/node_modules/big/index.js.map", b"x" * 900),
        *(S.File(f"app/node_modules/p{i:02}/index.js.map", b"") for i in range(extras)),
        *(S.File(f"app/node_modules/q{i:02}/x.js.map", b"y" * (i + 1)) for i in range(extras)),
    ]
    return S.image(
        [
            S.Step("ADD rootfs.tar /", S.layer(base)),
            S.Step('CMD ["sh"]'),
            S.Step("COPY . .", S.layer(own)),
        ]
    )


def test_base_only_categories_are_listed_as_not_done_with_the_option() -> None:
    p = plan(image(), level="moderate", keep_bottom=1)
    assert Skipped("man", "in the base image layers (--squash all removes them)", 2000) in p.skipped
    assert (
        Skipped("locales", "in the base image layers (--squash all removes them)", 3000)
        in p.skipped
    )
    docs = next(s for s in p.steps if s.name == "docs")
    assert docs.bytes == 100 and docs.in_base == 4000
    assert "docs" not in [s.name for s in p.skipped]


def test_squash_all_reaches_them() -> None:
    p = plan(image(), level="moderate", squash="all")
    assert not [s for s in p.skipped if "base image layers" in s.reason]
    assert {s.name: s.bytes for s in p.steps}["man"] == 2000


def test_safe_level_lists_nothing_of_the_moderate_categories() -> None:
    p = plan(image(), level="safe", keep_bottom=1)
    assert p.skipped == ()


def test_text_caps_folders_and_leaves_out_empty_ones() -> None:
    p = plan(image(extras=12), level="moderate", keep_bottom=1)
    before = (0,)
    text = render_text(Report("app.tar", p, before, before, dry_run=True))
    lines = text.splitlines()
    extras = lines.index(next(x for x in lines if x.startswith("  package-extras")))
    folders = [x for x in lines[extras + 1 :] if x.startswith("               app/")]
    assert len(folders) == 5
    assert ": 0B in" not in text
    assert "               ... 20 more folder(s), 36B (--explain)" in lines
    assert (
        "  man                    -  not done: 2kB in the base image layers (--squash all "
        "removes them)" in lines
    )
    assert (
        "               4kB more in the base image layers stay (--squash all removes them)" in lines
    )
    explained = render_text(Report("app.tar", p, before, before, dry_run=True), explain=True)
    assert "app/node_modules/p00: 0B in 1 file(s)" in explained
