"""What ``minify`` reports: the workflow's result with the real image sizes and where it
went. Rendering (``render.minify``) only reads it."""

from __future__ import annotations

from dataclasses import dataclass

from deadweight.runs.shrink import Shrunk

SCHEMA = "deadweight.minify/v1"


@dataclass(frozen=True, slots=True)
class MinifyReport:
    """``before_size``/``after_size`` are the images' layer bytes as docker counts them
    (uncompressed tars); the plan's figures are file-content bytes."""

    image: str
    shrunk: Shrunk
    before_size: int
    after_size: int | None = None
    image_id: str = ""
    destination: str | None = None
    written: bool = False
    forced: bool = False
    dry_run: bool = False

    @property
    def ratio(self) -> float | None:
        if self.after_size is None or not self.before_size:
            return None
        return self.after_size / self.before_size
