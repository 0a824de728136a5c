"""``--app package.module:factory``: the services a host builds itself, for ``worker``.

The factory is a callable taking no arguments that returns
:class:`~walker_channels.app.Services`, or an awaitable of them: the host's own agent, stores
and transports, exactly as its web process builds them.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from walker_channels.app.runtime import Services


class BadApp(ValueError):
    """``--app`` names nothing that builds services (the message says what to fix)."""


def load_factory(spec: str) -> Callable[[], Any]:
    """The callable ``spec`` (``package.module:factory``) names; :class:`BadApp` if none."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise BadApp(f"--app takes package.module:factory, not {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise BadApp(f"--app: cannot import {module_name!r} ({exc.name} not found)") from None
    factory = getattr(module, attribute, None)
    if not callable(factory):
        raise BadApp(f"--app: {module_name!r} has no callable {attribute!r}")
    return factory  # type: ignore[no-any-return]  # checked callable; its result is checked next


async def build_from(factory: Callable[[], Any]) -> Services:
    """Call ``factory`` (awaiting its result when it is awaitable) and check it gave services."""
    services = factory()
    if inspect.isawaitable(services):
        services = await services
    if not isinstance(services, Services):
        raise BadApp(f"--app: the factory returned {type(services).__name__}, not Services")
    return services
