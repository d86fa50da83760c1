from __future__ import annotations

import sys
from pathlib import Path

import pytest

from deadweight.image import Image

sys.path.insert(0, str(Path(__file__).parent))
from planted_image import planted


@pytest.fixture
def image() -> Image:
    return planted()
