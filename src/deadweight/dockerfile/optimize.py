"""An optimized Dockerfile: the original plus the changes that keep what the build means.

``optimize --dockerfile PATH`` writes ``Dockerfile.deadweight`` beside PATH, never PATH
itself. The changes, each made only where it is safe:

- the lint fixes that clean up inside the same RUN or only make a build non-interactive
  (``SAFE_FIXES``), the JSON (exec) form for CMD and ENTRYPOINT, and ``USER`` for a final
  stage that runs as root when the user is known (the node images' ``node``, or one a RUN
  creates);
- ``npm install`` without package arguments becomes ``npm ci --omit=dev`` in the final
  stage (``npm install --omit=dev`` without a lockfile beside PATH: ``npm ci`` needs one),
  unless something later in that stage may need the devDependencies (``npm run``, ``npx``,
  ``npm test``, ``yarn``...);
- ``CMD npm start`` becomes ``CMD ["node", FILE, ...]`` when package.json beside PATH has a
  ``scripts.start`` that is a plain ``node FILE ...`` command and no ``prestart`` or
  ``poststart`` (npm would run those too), and the final stage has no ENTRYPOINT.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deadweight.dockerfile import edits, multistage, nodedeps
from deadweight.dockerfile.findings import Edit, Fix
from deadweight.dockerfile.fixes import write_atomically
from deadweight.dockerfile.linting import lint, read_dockerfile
from deadweight.dockerfile.parser import parse
from deadweight.dockerfile.stages import script_of
from deadweight.dockerfile.syntax import Instruction
from deadweight.errors import UsageError

OUTPUT_NAME = "Dockerfile.deadweight"
# apt lists removed in the RUN that made them (DL3009), apk --no-cache (DL3019), pip
# --no-cache-dir (DL3042), a later `rm` moved into the RUN that created the file (DW005),
# -y for apt-get and yum (DL3014, DL3030), exec-form CMD/ENTRYPOINT (DL3025), USER (DW001).
SAFE_FIXES = frozenset(
    {"DL3009", "DL3014", "DL3019", "DL3025", "DL3030", "DL3042", "DW001", "DW005"}
)
LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json")

# one npm command: to the next `&&`, `||`, `;`, `|` or unescaped newline (as in ``edits``)
_NPM = re.compile(r"(?<![\w./-])npm(?![\w.-])(?:\\\r?\n|[^&|;\n])*")
_VERB = re.compile(r"(?<=\s)(?:install|i|ci)(?=\s|\\|$)")
_NEEDS_DEV = multistage.NEEDS_DEV
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")
_NPM_START = (("npm", "start"), ("npm", "run", "start"), ("npm", "run-script", "start"))


@dataclass(frozen=True, slots=True)
class Change:
    """One change: the line of the original it touches and what it does."""

    line: int
    description: str


@dataclass(frozen=True, slots=True)
class OptimizedDockerfile:
    text: str
    changes: tuple[Change, ...]


def optimize_dockerfile(
    source: str,
    *,
    package_json: bytes | None = None,
    lockfile: bool = False,
    slim_base: str | None = None,
) -> OptimizedDockerfile:
    """``source`` with the safe changes; ``package_json`` is the build context's
    package.json (None when there is none beside the Dockerfile); ``slim_base`` the base
    of the final stage of a multi-stage build (default: the slim variant of the base)."""
    multi = _multi_stage(source, package_json, lockfile, slim_base)
    if isinstance(multi, OptimizedDockerfile):
        return multi
    single = _single_stage(source, package_json, lockfile, SAFE_FIXES - {"DW001"})
    changes = [*single.changes, Change(multi[0], f"no multi-stage build: {multi[1]}")]
    text = _npm_cache_cleaned(single.text)
    if text != single.text:
        changes.append(
            Change(_install_line(source), "`npm cache clean --force` in the install RUN")
        )
    user = _add_user(text)
    if user is not None:
        text = user[0]
        changes.append(Change(_run_line(source), user[1]))
    return OptimizedDockerfile(text, tuple(sorted(changes, key=_by_line)))


def _npm_cache_cleaned(text: str) -> str:
    """The final stage's npm installs followed by ``npm cache clean --force`` in the same
    RUN (DW004), unless the RUN cleans it already or keeps it in a cache mount."""
    out, prev = [], 0
    for ins in _final_stage(text):
        raw = text[ins.start : ins.end]
        if ins.keyword != "RUN" or ins.exec_form is not None or ins.heredocs:
            continue
        if "cache clean" in raw or "type=cache" in raw or not _installs_npm(raw):
            continue
        out.append(text[prev : ins.end] + " \\\n && npm cache clean --force")
        prev = ins.end
    return "".join(out) + text[prev:]


def _installs_npm(raw: str) -> bool:
    for m in _NPM.finditer(raw):
        words = m.group(0).split()[1:]
        verb = next((w for w in words if not w.startswith("-")), "")
        if verb in ("install", "i", "ci") and not {"-g", "--global"} & set(words):
            return True
    return False


def _install_line(source: str) -> int:
    final = _final_stage(source)
    hit = next(
        (i for i in final if i.keyword == "RUN" and _installs_npm(source[i.start : i.end])), None
    )
    return hit.start_line if hit is not None else 1


def _run_line(source: str) -> int:
    final = _final_stage(source, with_from=True)
    runs = [i for i in final if i.keyword in ("CMD", "ENTRYPOINT")] or final[-1:]
    return runs[0].start_line if runs else 1


def _by_line(change: Change) -> int:
    return change.line


def _single_stage(
    source: str, package_json: bytes | None, lockfile: bool, codes: frozenset[str]
) -> OptimizedDockerfile:
    text, changes, ours = _changes(source, package_json, lockfile, codes)
    text = edits.apply(text, ours)
    return OptimizedDockerfile(text, tuple(sorted(changes, key=_by_line)))


def _changes(
    source: str, package_json: bytes | None, lockfile: bool, codes: frozenset[str]
) -> tuple[str, list[Change], list[Fix]]:
    """The source with the lint fixes in ``codes``, every change (lines of the source),
    and the npm and CMD changes still to apply to that text."""
    chosen = [(f.code, f.fix) for f in lint(source).findings if f.code in codes and f.fix]
    chosen += [("DW002", fix) for fix in _npm_upgrades(source)]
    text = edits.apply(source, [fix for _, fix in chosen])
    # The npm changes are made on the fixed text, in a second pass, so they never collide
    # with a fix to the same instruction (``edits.apply`` keeps only the first of two).
    final = _final_stage(text)
    ours = [fix for ins in final if (fix := _npm_ci(text, ins, final, lockfile)) is not None]
    node = _cmd_node(text, final, package_json)
    if node is not None:
        ours.append(node)
    original_line = _original_lines(source, text)
    changes = [
        (code, Change(_line(source, fix), f"{code}: {fix.description}")) for code, fix in chosen
    ]
    mine = [Change(original_line(_line(text, fix)), fix.description) for fix in ours]
    if node is not None:  # it supersedes the plain exec form of the same CMD
        changes = [(k, c) for k, c in changes if (k, c.line) != ("DL3025", mine[-1].line)]
    return text, [c for _, c in changes] + mine, ours


def _npm_upgrades(source: str) -> list[Fix]:
    """RUNs that only upgrade npm itself (DW002): dropped, the base image's npm installs
    the dependencies (and the final image does not ship two npms' worth of layers)."""
    out = []
    for ins in parse(source).instructions:
        if ins.keyword != "RUN" or ins.exec_form is not None or ins.heredocs:
            continue
        commands = script_of(ins).commands
        if not any(nodedeps.npm_self_upgrade(c) for c in commands):
            continue
        if all(
            nodedeps.npm_self_upgrade(c) or multistage.kind_of(c, "npm") in ("helper", "clean")
            for c in commands
        ):
            end = ins.end + 1 if source[ins.end : ins.end + 1] == "\n" else ins.end
            out.append(
                Fix(
                    "drop the npm self-upgrade (the base image's npm installs)",
                    (Edit(ins.start, end, ""),),
                )
            )
    return out


def _multi_stage(
    source: str, package_json: bytes | None, lockfile: bool, slim_base: str | None
) -> OptimizedDockerfile | tuple[int, str]:
    """The multi-stage build (``multistage``), or the line and reason it is not made."""
    text, changes, ours = _changes(source, package_json, lockfile, SAFE_FIXES - {"DW001"})
    original_line = _original_lines(source, text)
    replace = {fix.edits[0].start: fix.edits[0].text for fix in ours}
    built = multistage.build(
        text, replace=replace, slim_base=slim_base, workspaces=_has_workspaces(package_json)
    )
    if isinstance(built, str):
        final = _final_stage(text, with_from=True)
        return original_line(final[0].start_line if final else 1), _relined(built, original_line)
    changes += [
        Change(original_line(line), _relined(what, original_line)) for line, what in built.changes
    ]
    result = built.text
    user = _add_user(result)
    if user is not None:
        result = user[0]
        changes.append(Change(original_line(built.user_line), user[1]))
    return OptimizedDockerfile(result, tuple(sorted(changes, key=_by_line)))


def _relined(text: str, original_line: Callable[[int], int]) -> str:
    """A description naming lines of the fixed text, naming the original's lines."""

    def swap(m: re.Match[str]) -> str:
        numbers = ", ".join(str(original_line(int(n))) for n in m.group(2).split(", "))
        return f"{m.group(1)}{numbers}"

    return re.sub(r"\b(lines? )(\d+(?:, \d+)*)", swap, text)


def _add_user(text: str) -> tuple[str, str] | None:
    """``USER`` for a final stage that runs as root: the user DW001 knows (``node``, one a
    RUN creates), else ``10001:10001`` (numeric ids need no /etc/passwd entry)."""
    hit = next((f for f in lint(text).findings if f.code == "DW001"), None)
    if hit is None:
        return None
    if hit.fix is not None:
        return edits.apply(text, [hit.fix]), f"DW001: {hit.fix.description}"
    user = f"USER {multistage.NUMERIC_USER}"
    final = _final_stage(text)
    target = next((i for i in final if i.keyword in ("CMD", "ENTRYPOINT")), None)
    at = text.rfind("\n", 0, target.start) + 1 if target is not None else len(text)
    new = f"{user}\n" if target is not None or text.endswith("\n") else f"\n{user}\n"
    return text[:at] + new + text[at:], f"add `{user}` (numeric ids need no /etc/passwd entry)"


def _line(text: str, fix: Fix) -> int:
    return text.count("\n", 0, fix.edits[0].start) + 1


def write(path: Path, *, slim_base: str | None = None) -> tuple[Path, OptimizedDockerfile]:
    """Write ``Dockerfile.deadweight`` beside ``path`` (atomically; ``path`` is only read).
    package.json and its lockfile are looked for beside ``path``: the build context."""
    if path.name == OUTPUT_NAME:
        raise UsageError(f"--dockerfile {path}: that is the output name; name the original")
    if not path.is_file():
        raise UsageError(f"--dockerfile {path}: no such file")
    package = path.parent / "package.json"
    optimized = optimize_dockerfile(
        read_dockerfile(path),
        package_json=package.read_bytes() if package.is_file() else None,
        lockfile=any((path.parent / name).is_file() for name in LOCKFILES),
        slim_base=slim_base,
    )
    dest = path.parent / OUTPUT_NAME
    write_atomically(dest, optimized.text)
    return dest, optimized


def _final_stage(text: str, *, with_from: bool = False) -> list[Instruction]:
    """The instructions of the last stage (what ``docker build`` builds without
    ``--target``), its FROM excluded unless ``with_from``."""
    instructions = parse(text).instructions
    starts = [i for i, ins in enumerate(instructions) if ins.keyword == "FROM"]
    return list(instructions[starts[-1] + (0 if with_from else 1) :]) if starts else []


def _npm_ci(text: str, ins: Instruction, final: list[Instruction], lockfile: bool) -> Fix | None:
    if ins.keyword != "RUN" or ins.exec_form is not None or ins.heredocs or ins.trigger:
        return None
    raw = text[ins.start : ins.end]
    later = [text[i.start : i.end] for i in final if i.start > ins.start]
    command = "npm ci --omit=dev" if lockfile else "npm install --omit=dev"
    out: list[str] = []
    replaced = "npm install"
    last = 0
    for m in _NPM.finditer(raw):
        words = re.sub(r"\\\r?\n", " ", m.group(0)).split()[1:]
        verb = next((i for i, w in enumerate(words) if not w.startswith("-")), None)
        if verb is None or words[verb] not in ("install", "i", "ci"):
            continue
        rest = words[:verb] + words[verb + 1 :]
        if any(not w.startswith("-") for w in rest) or any(
            w in ("-g", "--global", "--production") or w.startswith(("--omit", "--only"))
            for w in rest
        ):
            continue  # names packages, installs globally, or already leaves devDeps out
        if _NEEDS_DEV.search(raw[m.end() :]) or any(_NEEDS_DEV.search(t) for t in later):
            return None
        at = _VERB.search(m.group(0))
        assert at is not None
        if words[verb] == "ci":
            replaced, new = "npm ci", "ci --omit=dev"
        else:
            new = command[4:]
        out.append(raw[last : m.start() + at.start()] + new)
        last = m.start() + at.end()
    if not out:
        return None
    out.append(raw[last:])
    if replaced == "npm ci":
        command = "npm ci --omit=dev"
    return Fix(f"`{command}` instead of `{replaced}`", (Edit(ins.start, ins.end, "".join(out)),))


def _cmd_node(text: str, final: list[Instruction], package_json: bytes | None) -> Fix | None:
    cmds = [i for i in final if i.keyword == "CMD" and i.trigger is None]
    if not cmds or package_json is None or any(i.keyword == "ENTRYPOINT" for i in final):
        return None
    cmd = cmds[-1]
    words = cmd.exec_form if cmd.exec_form is not None else tuple(cmd.value.split())
    if tuple(words) not in _NPM_START:
        return None
    argv = _plain_node_start(package_json)
    if argv is None:
        return None
    keyword = text[cmd.start : cmd.end].lstrip()[:3]
    new = f"{keyword} {json.dumps(argv)}"
    return Fix(
        f"run `{' '.join(argv)}` directly (package.json scripts.start)",
        (Edit(cmd.start, cmd.end, new),),
    )


def _has_workspaces(package_json: bytes | None) -> bool:
    try:
        doc: Any = json.loads(package_json) if package_json is not None else None
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(doc, dict) and bool(doc.get("workspaces"))


def _plain_node_start(package_json: bytes) -> list[str] | None:
    """``scripts.start`` as argv when it is ``node`` and plain words (no shell syntax, no
    variables), and npm would run nothing else around it."""
    try:
        doc: Any = json.loads(package_json)
    except (ValueError, UnicodeDecodeError):
        return None
    scripts = doc.get("scripts") if isinstance(doc, dict) else None
    if not isinstance(scripts, dict) or "prestart" in scripts or "poststart" in scripts:
        return None
    start = scripts.get("start")
    if not isinstance(start, str):
        return None
    words = start.split()
    if len(words) < 2 or words[0] != "node":
        return None
    if not all(_PLAIN_WORD.fullmatch(w) for w in words):
        return None
    return words


def _original_lines(source: str, text: str) -> Callable[[int], int]:
    """Map a line of ``text`` (the fixed source) to the original's: fixes insert whole
    lines (``USER``) or rewrite lines in place."""
    a, b = source.splitlines(), text.splitlines()
    opcodes = difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes()

    def line_of(new: int) -> int:
        for _tag, i1, i2, j1, j2 in opcodes:
            if j1 <= new - 1 < j2:
                return i1 + min(new - 1 - j1, max(i2 - i1 - 1, 0)) + 1
        return new

    return line_of
