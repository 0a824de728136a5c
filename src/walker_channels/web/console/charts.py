"""Charts as geometry for inline SVG: computed here, drawn by the templates, no script.

Every chart has the same frame (:data:`WIDTH` x :data:`HEIGHT`, with margins for the axis
labels); the functions are pure, so what a chart shows is tested without a browser.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH, HEIGHT = 640.0, 220.0
LEFT, RIGHT, TOP, BOTTOM = 44.0, 12.0, 12.0, 28.0
"""Margins: the value axis on the left, the category labels below."""
TICKS = 2


@dataclass(frozen=True)
class Tick:
    """A label on an axis, at ``at`` (x for categories, y for values)."""

    at: float
    text: str


@dataclass(frozen=True)
class Bar:
    """One bar: its rectangle and what it stands for (the SVG ``<title>``)."""

    x: float
    y: float
    width: float
    height: float
    title: str


@dataclass(frozen=True)
class Point:
    """One point of a line chart."""

    x: float
    y: float
    title: str


@dataclass(frozen=True)
class Chart:
    """A chart to draw: bars, or line segments through points, and both axes' labels."""

    title: str
    bars: tuple[Bar, ...] = ()
    segments: tuple[tuple[Point, ...], ...] = ()
    """Runs of consecutive points with a value (a gap where there is none)."""
    x_ticks: tuple[Tick, ...] = ()
    y_ticks: tuple[Tick, ...] = ()
    empty: bool = False
    """Nothing to show: every value is zero or missing."""
    width: float = WIDTH
    height: float = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    left: float = LEFT
    right: float = WIDTH - RIGHT

    @property
    def points(self) -> tuple[Point, ...]:
        """Every point of every segment."""
        return tuple(point for segment in self.segments for point in segment)


def bar_chart(
    title: str,
    values: Sequence[float],
    labels: Sequence[str],
    *,
    unit: str = "",
    every: int = 1,
) -> Chart:
    """Bars of ``values`` (one per label; every ``every``-th label is written under its bar)."""
    top = _nice_top(max(values, default=0.0))
    slot = (WIDTH - LEFT - RIGHT) / max(len(values), 1)
    bars = tuple(
        Bar(
            x=LEFT + i * slot + slot * 0.1,
            y=_y(value, top),
            width=slot * 0.8,
            height=(HEIGHT - BOTTOM) - _y(value, top),
            title=f"{label}: {_format(value)}{unit}",
        )
        for i, (value, label) in enumerate(zip(values, labels, strict=True))
    )
    x_ticks = tuple(
        Tick(LEFT + (i + 0.5) * slot, label) for i, label in enumerate(labels) if i % every == 0
    )
    return Chart(title, bars=bars, x_ticks=x_ticks, y_ticks=_y_ticks(top, unit), empty=top == 0)


def line_chart(
    title: str,
    values: Sequence[float | None],
    labels: Sequence[str],
    *,
    top: float = 1.0,
    percent: bool = True,
    every: int = 1,
) -> Chart:
    """A line through ``values`` on a fixed scale ``[0, top]``, broken where a value is missing."""
    slot = (WIDTH - LEFT - RIGHT) / max(len(values), 1)
    segments: list[tuple[Point, ...]] = []
    run: list[Point] = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        if value is None:
            segments, run = _close(segments, run), []
            continue
        text = f"{value * 100:.0f} %" if percent else _format(value)
        run.append(Point(LEFT + (i + 0.5) * slot, _y(value, top), f"{label}: {text}"))
    segments = _close(segments, run)
    x_ticks = tuple(
        Tick(LEFT + (i + 0.5) * slot, label) for i, label in enumerate(labels) if i % every == 0
    )
    unit = " %" if percent else ""
    scale = 100.0 if percent else 1.0
    y_ticks = tuple(
        Tick(_y(top * n / TICKS, top), f"{_format(top * scale * n / TICKS)}{unit}")
        for n in range(TICKS + 1)
    )
    return Chart(
        title, segments=tuple(segments), x_ticks=x_ticks, y_ticks=y_ticks, empty=not segments
    )


def _close(segments: list[tuple[Point, ...]], run: list[Point]) -> list[tuple[Point, ...]]:
    return [*segments, tuple(run)] if run else segments


def _y(value: float, top: float) -> float:
    span = HEIGHT - TOP - BOTTOM
    share = 0.0 if top <= 0 else min(max(value / top, 0.0), 1.0)
    return (HEIGHT - BOTTOM) - share * span


def _y_ticks(top: float, unit: str) -> tuple[Tick, ...]:
    if top == 0:
        return (Tick(HEIGHT - BOTTOM, f"0{unit}"),)
    return tuple(
        Tick(_y(top * n / TICKS, top), f"{_format(top * n / TICKS)}{unit}")
        for n in range(TICKS + 1)
    )


def _nice_top(peak: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above ``peak`` (0 stays 0)."""
    if peak <= 0:
        return 0.0
    scale = 1.0
    while scale * 10 < peak:
        scale *= 10
    while scale > peak and scale > 1e-9:
        scale /= 10
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        if step * scale >= peak:
            return step * scale
    return 10 * scale


def _format(value: float) -> str:
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2g}"
