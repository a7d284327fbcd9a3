"""Charts drawn on the server as SVG: no JavaScript, and every chart comes with a ``<title>``, a
``<desc>`` that states the latest numbers in words, and a table holding the same numbers — the
table is the accessible alternative, the picture is a convenience for sighted readers.

One chart so far: open findings of a release by severity over time, a stacked bar per day drawn
from the release's :class:`~clearroom.server.vulnerabilities.models.Evaluation` rows (the last
evaluation of each day counts)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from clearroom.server.vulnerabilities.models import Evaluation
from clearroom.vulns.scan import SEVERITY_ORDER

__all__ = [
    "COLOURS",
    "MAX_DAYS",
    "Chart",
    "Point",
    "daily_points",
    "open_findings_chart",
]

SEVERITIES: tuple[str, ...] = SEVERITY_ORDER
# Fills contrast at least 5:1 with the white background and with white text (WCAG 1.4.11,
# 1.4.3); neighbouring segments are also split by a white line, and the legend names each.
COLOURS: Mapping[str, str] = {
    "critical": "#7f1d1d",
    "high": "#c2410c",
    "medium": "#8a6100",
    "low": "#1d4ed8",
    "none": "#4b5563",
    "unknown": "#6b21a8",
}
MAX_DAYS = 60
"""Days drawn at most (the newest); older history stays in the API."""

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 118, 14, 40
MAX_X_LABELS = 7


@dataclass(frozen=True)
class Point:
    """The open findings of one day, as the day's last evaluation counted them."""

    day: date
    counts: Mapping[str, int]
    snapshot: str

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Chart:
    points: tuple[Point, ...]
    svg: SafeString
    table: SafeString

    @property
    def latest(self) -> Point:
        return self.points[-1]


def daily_points(
    evaluations: Iterable[Evaluation],
    *,
    days: int = MAX_DAYS,
    counted: str = "public_open_by_severity",
) -> list[Point]:
    """One point per UTC day that had an evaluation, oldest first, the newest ``days`` only.
    ``evaluations`` must come oldest first; a later evaluation of a day replaces an earlier.
    ``counted`` names the stored counts drawn: the public ones unless the caller knows the
    reader may see every SBOM and VEX document (``history_field``)."""
    by_day: dict[date, Point] = {}
    for e in evaluations:
        counts = dict.fromkeys(SEVERITIES, 0)
        for rating, n in (getattr(e, counted) or {}).items():
            key = rating if rating in counts else "unknown"
            counts[key] += max(int(n), 0)
        day = e.at.astimezone(UTC).date()
        by_day[day] = Point(day=day, counts=counts, snapshot=e.snapshot)
    return [by_day[d] for d in sorted(by_day)][-days:]


def _nice_step(top: int, ticks: int = 4) -> int:
    """A step of 1, 2 or 5 times a power of ten giving about ``ticks`` gridlines up to ``top``."""
    raw = max(top / ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return int(factor * power)
    return int(10 * power)  # pragma: no cover - the loop always returns


def _words(point: Point) -> str:
    parts = [f"{point.counts[s]} {s}" for s in SEVERITIES if point.counts[s]]
    return ", ".join(parts) if parts else "none open"


def open_findings_chart(points: Iterable[Point], *, ident: str, subject: str) -> Chart | None:
    """A stacked bar chart of ``points`` (None when there are none). ``ident`` prefixes the
    element ids, so two charts may share a page; ``subject`` names what was evaluated."""
    pts = tuple(points)
    if not pts:
        return None
    latest = pts[-1]
    top = max(p.total for p in pts)
    step = _nice_step(top)
    y_max = max(step * math.ceil(top / step), step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(pts)
    bar = min(slot * 0.7, 36.0)

    def y(value: float) -> float:
        return TOP + plot_h - plot_h * value / y_max

    title = f"Open vulnerability findings by severity over time: {subject}"
    span = f"{pts[0].day.isoformat()} to {latest.day.isoformat()}"
    desc = (
        f"Stacked bars, one per day with an evaluation, {len(pts)} day"
        f"{'s' if len(pts) != 1 else ''} from {span}. On {latest.day.isoformat()}:"
        f" {latest.total} open ({_words(latest)}). The table below has every value."
    )
    parts: list[str] = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {} {}"'
            ' role="img" aria-labelledby="{}-title {}-desc" focusable="false">'
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
            WIDTH,
            HEIGHT,
            ident,
            ident,
            ident,
            title,
            ident,
            desc,
        )
    ]
    # Gridlines and the y axis labels.
    for value in range(0, y_max + 1, step):
        parts.append(
            format_html(
                '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
                LEFT,
                LEFT + plot_w,
                f"{y(value):.1f}",
                f"{y(value):.1f}",
                LEFT - 6,
                f"{y(value) + 4:.1f}",
                value,
            )
        )
    # One stacked bar per day, the most severe at the bottom.
    every = max(1, math.ceil(len(pts) / MAX_X_LABELS))
    for i, p in enumerate(pts):
        x = LEFT + slot * i + (slot - bar) / 2
        base = 0
        for s in SEVERITIES:
            n = p.counts[s]
            if not n:
                continue
            parts.append(
                format_html(
                    '<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}: {} {}</title></rect>",
                    f"{x:.1f}",
                    f"{y(base + n):.1f}",
                    f"{bar:.1f}",
                    f"{y(base) - y(base + n):.1f}",
                    COLOURS[s],
                    p.day.isoformat(),
                    n,
                    s,
                )
            )
            base += n
        if i % every == 0 or i == len(pts) - 1:
            parts.append(
                format_html(
                    '<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                    f"{x + bar / 2:.1f}",
                    TOP + plot_h + 16,
                    p.day.strftime("%m-%d"),
                )
            )
    parts.append(
        format_html(
            '<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<text class="tick" x="{}" y="{}" text-anchor="middle">{} (UTC)</text>',
            LEFT,
            LEFT + plot_w,
            TOP + plot_h,
            TOP + plot_h,
            LEFT + plot_w / 2,
            HEIGHT - 4,
            pts[0].day.year if pts[0].day.year == latest.day.year else span,
        )
    )
    # The legend, in the order the bars stack (top of the legend = top of the stack).
    for row, s in enumerate(reversed(SEVERITIES)):
        ly = TOP + 8 + row * 20
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="12" height="12" fill="{}"/>'
                '<text class="legend" x="{}" y="{}">{}</text>',
                WIDTH - RIGHT + 14,
                ly,
                COLOURS[s],
                WIDTH - RIGHT + 32,
                ly + 11,
                s.capitalize(),
            )
        )
    parts.append("</svg>")
    return Chart(points=pts, svg=mark_safe("".join(parts)), table=_table(pts, title))  # noqa: S308


def _table(points: tuple[Point, ...], title: str) -> SafeString:
    head = format_html_join("", '<th scope="col">{}</th>', ((s.capitalize(),) for s in SEVERITIES))
    rows = format_html_join(
        "",
        '<tr><th scope="row"><time datetime="{}">{}</time></th>{}<td>{}</td></tr>',
        (
            (
                p.day.isoformat(),
                p.day.isoformat(),
                format_html_join("", "<td>{}</td>", ((p.counts[s],) for s in SEVERITIES)),
                p.total,
            )
            for p in reversed(points)  # newest first, as people read a history
        ),
    )
    return format_html(
        '<table class="chart-data"><caption>{} (newest first)</caption>'
        '<thead><tr><th scope="col">Day</th>{}<th scope="col">Total open</th></tr></thead>'
        "<tbody>{}</tbody></table>",
        title,
        head,
        rows,
    )


def combined_points(histories: Iterable[list[Point]]) -> list[Point]:
    """Several releases' histories summed per day: on each day, every release counts with its
    latest point on or before that day (a release evaluated last week still has open findings)."""
    series = [h for h in histories if h]
    days = sorted({p.day for h in series for p in h})[-MAX_DAYS:]
    combined = []
    for day in days:
        counts = dict.fromkeys(SEVERITIES, 0)
        for history in series:
            current = next((p for p in reversed(history) if p.day <= day), None)
            for s in SEVERITIES:
                counts[s] += current.counts[s] if current else 0
        combined.append(Point(day=day, counts=counts, snapshot=""))
    return combined


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    """0 to 100 (a percentage)."""
    note: str = ""


BAR_HEIGHT, BAR_GAP, LABEL_W = 22, 8, 220


def percent_bars(bars: Iterable[Bar], *, ident: str, title: str, unit: str = "%") -> Chart | None:
    """Horizontal bars from 0 to 100, each labelled with its value, with the same numbers in a
    table (None when there are none)."""
    rows = tuple(bars)
    if not rows:
        return None
    height = TOP + len(rows) * (BAR_HEIGHT + BAR_GAP) + 10
    plot = WIDTH - LABEL_W - 70
    desc = "; ".join(f"{b.label}: {b.value:.0f}{unit}" for b in rows)
    parts = [
        format_html(
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img"'
            ' aria-labelledby="{}-title {}-desc" class="chart">'
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
            WIDTH,
            height,
            ident,
            ident,
            ident,
            title,
            ident,
            desc,
        )
    ]
    for i, b in enumerate(rows):
        y0 = TOP + i * (BAR_HEIGHT + BAR_GAP)
        width = plot * max(0.0, min(b.value, 100.0)) / 100
        parts.append(
            format_html(
                '<text class="axis" x="{}" y="{}" text-anchor="end">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#e5e7eb"/>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="#1d4ed8"/>'
                '<text class="axis" x="{}" y="{}">{}{}</text>',
                LABEL_W - 8,
                y0 + BAR_HEIGHT - 6,
                b.label[:34],
                LABEL_W,
                y0,
                plot,
                BAR_HEIGHT,
                LABEL_W,
                y0,
                f"{width:.1f}",
                BAR_HEIGHT,
                LABEL_W + plot + 6,
                y0 + BAR_HEIGHT - 6,
                f"{b.value:.0f}",
                unit,
            )
        )
    parts.append("</svg>")
    table = format_html(
        '<table class="chart-data"><caption>{}</caption><thead><tr><th scope="col">Item</th>'
        '<th scope="col">Value</th><th scope="col">Note</th></tr></thead><tbody>{}</tbody></table>',
        title,
        format_html_join(
            "",
            '<tr><th scope="row">{}</th><td>{}{}</td><td>{}</td></tr>',
            ((b.label, f"{b.value:.0f}", unit, b.note) for b in rows),
        ),
    )
    return Chart(points=(), svg=mark_safe("".join(parts)), table=table)  # noqa: S308
