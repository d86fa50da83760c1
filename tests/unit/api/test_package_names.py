"""No package binds one of its submodules' names to something else.

``from deadweight.optimize import plan`` once gave the function while
``import deadweight.optimize.plan`` gave the module under the same attribute, whichever ran
last (issue 11): a package re-exports a function only when its submodule is named apart.
"""

from __future__ import annotations

import importlib
import pkgutil
import types

import deadweight


def _packages() -> list[types.ModuleType]:
    found = [deadweight]
    for info in pkgutil.walk_packages(deadweight.__path__, "deadweight."):
        if info.ispkg:
            found.append(importlib.import_module(info.name))
    return found


def test_no_package_shadows_a_submodule_with_another_value() -> None:
    shadowed = []
    for package in _packages():
        for sub in pkgutil.iter_modules(package.__path__):
            value = package.__dict__.get(sub.name)
            if value is not None and not isinstance(value, types.ModuleType):
                shadowed.append(f"{package.__name__}.{sub.name}")
    assert shadowed == []


def test_the_verbs_and_their_modules_stay_apart() -> None:
    import deadweight.dockerfile.linting
    import deadweight.mutate.squashing
    import deadweight.optimize.planning
    from deadweight.dockerfile import lint
    from deadweight.mutate import squash
    from deadweight.optimize import plan

    assert isinstance(deadweight.optimize.planning, types.ModuleType)
    assert plan is deadweight.optimize.planning.plan
    assert squash is deadweight.mutate.squashing.squash
    assert lint is deadweight.dockerfile.linting.lint
