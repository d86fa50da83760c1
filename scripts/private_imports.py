"""No module imports another package's private module, or another module's private name.

``_name`` is private to where it is defined: a module ``pkg/_mod.py`` to the package
``pkg`` (and its subpackages), a name ``_NAME`` in ``pkg/mod.py`` to that module. This
walks the AST of every module under ``src/`` (relative imports resolved, imports inside
functions included) and prints each import that breaks the rule; the exit status is 1
when there is one. Run by ``scripts/check``.

Usage: ``python scripts/private_imports.py [SRC_DIR]``
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path


def _imported(node: ast.Import | ast.ImportFrom, package: str) -> Iterator[str]:
    """The dotted names an import statement reaches (module, then module.name)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    if node.level:
        base = package.split(".")
        if node.level > 1:
            base = base[: -(node.level - 1)]
        target = ".".join([*base, *([node.module] if node.module else [])])
    else:
        target = node.module or ""
    yield target
    yield from (f"{target}.{alias.name}" for alias in node.names if alias.name != "*")


def _owner(name: str) -> str | None:
    """Where the first private part of a dotted name is defined; None if none is."""
    parts = name.split(".")
    for i, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:i])
    return None


def violations(src: Path) -> list[str]:
    found = []
    for path in sorted(src.rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = module if parts[-1] == "__init__" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for name in _imported(node, package):
                owner = _owner(name)
                if owner is None or owner in (module, package):
                    continue
                if owner and (package.startswith(owner + ".") or module.startswith(owner + ".")):
                    continue
                found.append(f"{path}:{node.lineno}: {module} imports {name}, private to {owner}")
    return sorted(set(found))


def main() -> int:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent.parent / "src"
    found = violations(src)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
