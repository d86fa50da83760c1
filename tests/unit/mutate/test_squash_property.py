"""Property: squashing at any point keeps the merged file system, for random layer stacks
(whiteouts, opaque dirs, hardlinks, symlinks, files replaced by dirs and back)."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from deadweight import static
from deadweight.filetree import read_delta
from deadweight.filetree.tree import Stacker
from deadweight.image import Image
from deadweight.mutate import squash
from deadweight.validation import validate

PATHS = ["a", "a/b", "a/b/c", "a/d", "e", "e/f"]
DATA = [b"", b"1", b"22", b"333"]

op = st.one_of(
    st.builds(
        static.File, st.sampled_from(PATHS), st.sampled_from(DATA), st.sampled_from([0o644, 0o755])
    ),
    st.builds(static.Dir, st.sampled_from(PATHS), st.sampled_from([0o755, 0o700])),
    st.builds(static.Symlink, st.sampled_from(PATHS), st.sampled_from(["x", "../yy"])),
    st.builds(static.Hardlink, st.sampled_from(PATHS), st.sampled_from(PATHS)),
    st.builds(static.Whiteout, st.sampled_from(PATHS)),
    st.builds(static.Opaque, st.sampled_from(PATHS)),
)
stacks = st.lists(st.lists(op, max_size=6), min_size=1, max_size=4)


def view(image: Image) -> dict[str, tuple[object, ...]]:
    stacker = Stacker()
    for layer in image.layers:
        with layer.open() as stream:
            stacker.apply(read_delta(stream, hash="sha256"))
    out: dict[str, tuple[object, ...]] = {}
    for path, n in stacker.nodes.items():
        if n.kind == "hardlink":
            assume(n.inode >= 0 and stacker.inodes[n.inode].path != "")
            target_kind = "symlink" if n.digest == "" and n.size == 0 else "file"
            assume(target_kind == "file")
        kind = "file" if n.kind in ("file", "hardlink") else n.kind
        mode = n.mode if n.kind in ("dir", "symlink") else None
        link = n.link if n.kind == "symlink" else ""
        out[path] = (kind, mode, link, n.digest, n.size)
    return out


@settings(max_examples=300, deadline=None)
@given(stacks, st.data())
def test_squash_keeps_the_merged_file_system(
    layers: list[list[static.Entry]], data: st.DataObject
) -> None:
    image = static.image([static.Step(f"RUN {i}", static.layer(e)) for i, e in enumerate(layers)])
    expected = view(image)
    keep = data.draw(st.integers(0, len(layers) - 1))
    out = squash(image, keep, epoch=0)
    assert len(out.layers) == keep + 1
    assert view(out) == expected
    validate(out).check()
