"""Failures described for logs without their messages: a driver's or provider's message can
repeat a statement's parameters, a person's number or text, so only classes and codes go out."""

from __future__ import annotations

import traceback


def failure_chain(error: BaseException, *, include_self: bool = True) -> str:
    """``error`` and its causes as class names with codes: ``StoreError <- DBAPIError (23505)``."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error if include_self else _cause_of(error)
    while current is not None and id(current) not in seen and len(parts) < 8:
        seen.add(id(current))
        parts.append(_described(current))
        current = _cause_of(current)
    return " <- ".join(parts) or "none recorded"


def failure_report(error: BaseException) -> str:
    """:func:`failure_chain` and where it was raised (the stack's frames, never a message)."""
    frames = "".join(traceback.format_tb(error.__traceback__)).rstrip()
    return f"{failure_chain(error)}\n{frames}" if frames else failure_chain(error)


def _cause_of(error: BaseException) -> BaseException | None:
    # SQLAlchemy keeps the driver's exception as ``orig``.
    orig = getattr(error, "orig", None)
    if isinstance(orig, BaseException) and orig is not error:
        return orig
    return error.__cause__ or error.__context__


def _described(error: BaseException) -> str:
    code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if code is None and isinstance(error, OSError):
        code = error.errno
    name = f"{type(error).__module__}.{type(error).__qualname__}"
    return f"{name} ({code})" if isinstance(code, str | int) else name
