"""Small bar charts drawn as inline SVG by the server: no script, no external asset.

The page's policy allows no inline style, so geometry goes in SVG attributes and
colours in classes of ``console.css`` (``series-0`` … ``series-7``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from app.services.metric_history import Hour

WIDTH, HEIGHT = 720, 200
#: value labels sit inside the plot, above their grid line, so a wide number is never cut
LEFT, RIGHT, TOP, BOTTOM = 4, 4, 30, 30
PALETTE = 8


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Tick:
    """A label on an axis at ``position`` (x for the hours, y for the values)."""

    position: float
    text: str
    #: hidden on narrow screens, where every sixth hour is labelled
    minor: bool = False
    #: SVG ``text-anchor``: the first hour's label starts at the edge instead of leaving it
    anchor: str = "middle"


@dataclass(frozen=True)
class Chart:
    title: str
    rects: list[Rect]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM


def nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50 … at or above ``value`` (at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def series_class(index: int) -> str:
    """The colour class of the ``index``-th series (the palette repeats after eight)."""
    return f"series-{index % PALETTE}"


def _span(hour: Hour) -> str:
    end = hour.start + timedelta(hours=1)
    return f"{hour.start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC"


def stacked_bars(
    title: str,
    hours: Sequence[Hour],
    series: Sequence[tuple[str, Callable[[Hour], int]]],
    unit: str,
) -> Chart:
    """One bar per hour, its segments stacked in the order of ``series`` (name, value)."""
    plot_height = HEIGHT - TOP - BOTTOM
    top = nice_ceiling(max((sum(f(h) for _, f in series) for h in hours), default=0))
    slot = (WIDTH - LEFT - RIGHT) / max(len(hours), 1)
    bar = slot * 0.72
    rects: list[Rect] = []
    for index, hour in enumerate(hours):
        x = LEFT + index * slot + (slot - bar) / 2
        y = HEIGHT - BOTTOM
        for number, (name, value_of) in enumerate(series):
            value = value_of(hour)
            if value <= 0:
                continue
            height = max(plot_height * value / top, 1.0)
            y -= height
            label = f"{_span(hour)}: {value} {name if len(series) > 1 else unit}"
            rects.append(
                Rect(
                    round(x, 1),
                    round(y, 1),
                    round(bar, 1),
                    round(height, 1),
                    series_class(number),
                    label,
                )
            )
    x_ticks = [
        Tick(
            round(LEFT + index * slot + (slot / 2 if index else 0), 1),
            f"{hour.start:%H}h",
            minor=index % 6 != 0,
            anchor="middle" if index else "start",
        )
        for index, hour in enumerate(hours)
        if index % 3 == 0
    ]
    y_ticks = [
        Tick(round(HEIGHT - BOTTOM - plot_height * fraction, 1), f"{round(top * fraction):,}")
        for fraction in (0.5, 1)
    ]
    return Chart(title, rects, x_ticks, y_ticks)
