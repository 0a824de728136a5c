"""Optional parts of a package, imported on first use, with a hint naming the extra to install."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from walker_channels.exceptions import MissingDependency


def lazy_attribute(
    package: str,
    homes: Mapping[str, str],
    name: str,
    *,
    needs: frozenset[str],
    feature: str,
    extra: str,
) -> Any:
    """``package``'s attribute ``name``, imported from its module ``homes[name]`` on first use.

    For a package's ``__getattr__``, so the package imports without its extra. A missing
    module of ``needs`` (the extra's own modules) raises :class:`MissingDependency` naming
    ``extra``; any other missing module is a real error and is raised as it is.
    """
    home = homes.get(name)
    if home is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    try:
        module = importlib.import_module(f"{package}.{home}")
    except ModuleNotFoundError as exc:
        if exc.name in needs:
            raise MissingDependency(feature, extra) from exc
        raise
    return getattr(module, name)
