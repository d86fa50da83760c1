"""The linters' external binaries for the tests that run them: found beside the interpreter
(the dev extras install them into the venv) or on PATH; missing, a failure in CI and a skip
elsewhere."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest


def tool(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.is_file() else shutil.which(name)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is missing (install the dev extras)")
        pytest.skip(f"{name} is not installed")
    return found
