"""Run as a non-root user: ``app`` in /etc/passwd and /etc/group, the app directory its.

When the config's ``User`` is empty or root, a user ``app`` (uid and gid 10001, or the next
free ids) is appended to /etc/passwd and /etc/group (minimal files are created when the
image has none), the squashed layer's entries at and below ``WorkingDir`` get its uid and
gid, and ``User`` is set to ``UID:GID``: numeric, so a runtime can tell it is not root
without reading /etc/passwd (Kubernetes' ``runAsNonRoot`` needs that). An existing
non-root ``app`` user is reused as it is. Everything that cannot be done safely is refused
with a reason: no app directory (``WorkingDir`` empty or ``/``), a symlinked one, an
/etc/passwd that is a link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from deadweight.filetree.tree import Tree
from deadweight.mutate import NewFile, Owner

NAME = "app"
FIRST_ID = 10001
PASSWD, GROUP = "etc/passwd", "etc/group"
ROOT_USERS = ("", "root", "0", "root:root", "0:0", "root:0", "0:root")


@dataclass(frozen=True, slots=True)
class User:
    """The files to write, the owner to set and ``User``; or ``reason`` it is not done."""

    files: tuple[NewFile, ...] = ()
    owner: Owner | None = None
    user: str = ""
    reason: str = ""
    note: str = ""


def editable(tree: Tree, path: str) -> str:
    """Why ``path`` cannot be rewritten in place ("" when it can, or is absent)."""
    up = path.rpartition("/")[0]
    top = tree.get(up)
    if top is not None and top.kind != "dir":
        return f"/{up} is not a directory"
    node = tree.get(path)
    if node is None:
        return ""
    if node.kind != "file":
        return f"/{path} is a {node.kind}, not a plain file"
    if sum(1 for n in tree.nodes.values() if n.inode == node.inode) > 1:
        return f"/{path} has other names (hardlinks)"
    return ""


def _ids(text: str, field: int) -> dict[str, int]:
    """name -> the numeric ``field`` of each ``name:...`` line."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) > field and parts[field].strip().isdigit():
            out.setdefault(parts[0], int(parts[field]))
    return out


def _free(taken: set[int]) -> int:
    n = FIRST_ID
    while n in taken:
        n += 1
    return n


def _appended(text: str, line: str) -> bytes:
    if text and not text.endswith("\n"):
        text += "\n"
    return (text + line + "\n").encode()


def non_root(
    config: Mapping[str, object], tree: Tree, contents: Mapping[str, bytes], keep: int
) -> User:
    """The plan for ``config``/``tree``; ``contents`` holds /etc/passwd and /etc/group."""
    current = str(config.get("User") or "")
    if current not in ROOT_USERS:
        return User(reason=f"the image already runs as {current}")
    workdir = str(config.get("WorkingDir") or "").strip("/")
    if not workdir:
        return User(reason="WorkingDir is empty or /: there is no app directory to hand over")
    node = tree.get(workdir)
    if node is None:
        return User(reason=f"WorkingDir /{workdir} does not exist")
    if node.kind != "dir":
        return User(reason=f"WorkingDir /{workdir} is a {node.kind}, not a directory")
    for path in (PASSWD, GROUP):
        why = editable(tree, path)
        if why:
            return User(reason=f"{why}; no user added")
        if tree.get(path) is not None and path not in contents:
            return User(reason=f"/{path} could not be read; no user added")
    passwd = contents.get(PASSWD, b"").decode("utf-8", "surrogateescape")
    group = contents.get(GROUP, b"").decode("utf-8", "surrogateescape")
    users, user_groups, groups = _ids(passwd, 2), _ids(passwd, 3), _ids(group, 2)
    files: list[NewFile] = []
    if NAME in users:
        if users[NAME] == 0:
            return User(reason=f"the user {NAME} exists with uid 0")
        uid, gid = users[NAME], user_groups[NAME]
    else:
        uid = _free(set(users.values()))
        gid = groups[NAME] if groups.get(NAME) else _free(set(groups.values()))
        base = passwd if PASSWD in contents else "root:x:0:0:root:/root:/bin/sh\n"
        line = f"{NAME}:x:{uid}:{gid}:{NAME}:/{workdir}:/sbin/nologin"
        files.append(NewFile(PASSWD, _appended(base, line), _mode(tree, PASSWD)))
    if NAME not in groups:
        base = group if GROUP in contents else "root:x:0:\n"
        files.append(NewFile(GROUP, _appended(base, f"{NAME}:x:{gid}:"), _mode(tree, GROUP)))
    lower = sum(1 for p, n in tree.nodes.items() if _under(p, workdir) and n.layer < keep)
    note = f"User {uid}:{gid} ({NAME}) owns /{workdir} and what the new layer holds below it"
    if lower:
        note += f"; {lower} entries below it from the base layers keep their owner"
    return User(tuple(files), Owner(workdir, uid, gid), f"{uid}:{gid}", note=note)


def _under(path: str, top: str) -> bool:
    return path.startswith(top + "/")


def _mode(tree: Tree, path: str) -> int:
    node = tree.get(path)
    return node.mode & 0o7777 if node is not None else 0o644
