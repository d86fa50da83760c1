"""Debian's chromium, headless, driven by its own chromedriver through selenium (no browser
is ever downloaded), and where screenshots go.

``browser`` is imported by ``conftest.py`` only: one chromium for the whole session (a test
module that imported it itself would get its own copy of the fixture, and a browser of its
own). ``keep_screenshot`` saves a screenshot as a test artifact and, with
``DEADWEIGHT_UPDATE_DOCS=1``, over the docs' picture of the same name in ``docs/images/``
(how those pictures are made: never by hand)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from engine_fixtures import unavailable

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)
REPO = Path(__file__).resolve().parents[2]


def artifacts() -> Path:
    """Screenshots of the browser and terminal runs (DEADWEIGHT_TEST_ARTIFACTS moves them)."""
    where = Path(os.environ.get("DEADWEIGHT_TEST_ARTIFACTS") or REPO / ".work" / "artifacts")
    where.mkdir(parents=True, exist_ok=True)
    return where


DOCS_IMAGES = REPO / "docs" / "images"


def keep_screenshot(driver: Any, name: str) -> Path:
    """The browser's screen as ``name`` among the artifacts (and in ``docs/images`` when
    asked); a blank or failed capture fails the test."""
    out = artifacts() / name
    driver.save_screenshot(str(out))
    assert out.stat().st_size > 10_000, f"{name}: a blank screenshot"
    if os.environ.get("DEADWEIGHT_UPDATE_DOCS") == "1" and (DOCS_IMAGES / name).is_file():
        shutil.copyfile(out, DOCS_IMAGES / name)  # the pictures the docs show, made again
    return out


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    for exe, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not os.access(exe, os.X_OK):
            unavailable(f"{exe} is not installed: apt-get install {package}")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("selenium is not installed: pip install -e '.[dev]'")
    os.environ["SE_OFFLINE"] = "true"  # selenium must never try to fetch a driver
    profile = tmp_path_factory.mktemp("chromium-profile")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
