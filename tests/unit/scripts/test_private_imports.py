"""scripts/private_imports.py: no module reaches into another package's private module or
another module's private name (issue 11); it finds a planted one and src has none."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
SCRIPT = ROOT / "scripts" / "private_imports.py"


def check(src: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(src)], capture_output=True, text=True, check=False
    )


def tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path / "src"


def test_src_imports_nothing_private_of_another_package() -> None:
    proc = check(ROOT / "src")
    assert (proc.returncode, proc.stdout) == (0, "")


@pytest.mark.parametrize(
    "importer",
    [
        "from pkg.media._sink import atomic\n",
        "import pkg.media._sink\n",
        "def f():\n    from ..media._sink import atomic\n",
        "from pkg.media.files import _FLAGS\n",
        "from pkg.media import _sink\n",
    ],
)
def test_a_private_import_from_elsewhere_is_reported(tmp_path: Path, importer: str) -> None:
    src = tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/media/__init__.py": "",
            "pkg/media/_sink.py": "def atomic(): ...\n",
            "pkg/media/files.py": "_FLAGS = 1\n",
            "pkg/cli/__init__.py": "",
            "pkg/cli/export.py": importer,
        },
    )
    proc = check(src)
    assert proc.returncode == 1
    assert "pkg.cli.export imports pkg.media" in proc.stdout


def test_inside_the_owner_private_imports_are_fine(tmp_path: Path) -> None:
    src = tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/media/__init__.py": "from pkg.media._sink import atomic\n",
            "pkg/media/_sink.py": "def atomic(): ...\n",
            "pkg/media/disk/__init__.py": "from .._sink import atomic\n",
            "pkg/media/files.py": "from ._sink import atomic\n_FLAGS = 1\n",
        },
    )
    proc = check(src)
    assert (proc.returncode, proc.stdout) == (0, "")
