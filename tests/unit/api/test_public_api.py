"""The curated public API: sorted, complete, importable."""

from __future__ import annotations

import subprocess
import sys

import pytest

import deadweight


def test_all_is_sorted_and_unique() -> None:
    assert deadweight.__all__ == sorted(set(deadweight.__all__))


def test_every_name_in_all_exists() -> None:
    missing = [name for name in deadweight.__all__ if not hasattr(deadweight, name)]
    assert missing == []


def test_public_names_are_exported() -> None:
    public = {
        name
        for name in dir(deadweight)
        if not name.startswith("_")
        and not isinstance(getattr(deadweight, name), type(deadweight))
        and name not in {"annotations"}
    }
    assert public == set(deadweight.__all__)


def test_importing_the_package_loads_only_what_is_used() -> None:
    """The public names load on first use, so a command or the layer-reading helper
    process pays only for the modules it needs."""
    code = (
        "import sys, deadweight.errors; "
        "print(sorted(m for m in sys.modules if m.startswith('deadweight')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['deadweight', 'deadweight.errors']"
    code = "import deadweight; print(deadweight.open_image.__module__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "deadweight.sources"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = deadweight.nope


def test_the_verbs_and_their_results_are_public() -> None:
    verbs = {"open_image", "analyze", "diff", "lint", "lint_image", "plan", "apply"}
    verbs |= {"write_image", "validate"}
    results = {"Analysis", "ImageDiff", "LintResult", "Finding", "ImageLintResult", "Plan"}
    assert verbs | results <= set(deadweight.__all__)
    assert all(callable(getattr(deadweight, name)) for name in verbs)
    assert all(isinstance(getattr(deadweight, name), type) for name in results)


def test_no_public_name_is_also_a_subpackage() -> None:
    """``deadweight.compare`` is the package, so compare's verb is ``deadweight.diff``: a
    public name that is also a submodule's would change with what was imported first."""
    import pkgutil

    submodules = {info.name for info in pkgutil.iter_modules(deadweight.__path__)}
    assert submodules & set(deadweight.__all__) == set()


def test_importing_deadweight_imports_nothing_else() -> None:
    code = "import sys, deadweight; print(sorted(m for m in sys.modules if 'deadweight' in m))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['deadweight']"
