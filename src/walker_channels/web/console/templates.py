"""The console's Jinja2 templates: autoescaped HTML, undefined names are errors."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def age(seconds: float) -> str:
    """A duration as a reviewer reads it: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, hours, days = whole // 60, whole // 3600, whole // 86400
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        return f"{hours} h {minutes % 60} min"
    return f"{days} d {hours % 24} h"


def percent(value: float | None) -> str:
    """A ratio as a percentage, or a dash when there is none."""
    return "–" if value is None else f"{value * 100:.0f} %"


def number(value: float | None, digits: int = 0) -> str:
    """A number with ``digits`` decimals, or a dash when there is none."""
    return "–" if value is None else f"{value:,.{digits}f}"


def when(value: datetime) -> str:
    """A time in UTC, to the second."""
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


class Templates:
    """Renders the console's pages."""

    def __init__(self) -> None:
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(age=age, percent=percent, number=number, when=when)

    def render(self, name: str, **context: Any) -> str:
        """The page ``name`` rendered with ``context``."""
        return self._env.get_template(name).render(**context)
