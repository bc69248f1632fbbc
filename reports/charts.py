"""Server-rendered SVG charts for a metric's ``Table``: bar (one bar per series, grouped), stacked
bar and line. Accessible: ``role="img"`` with a ``<title>`` and ``<desc>``; every value is written
on the chart, and the page shows the same numbers as a table beside it. No JavaScript."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .metrics import Table

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 48
#: Colour-blind-safe (Okabe–Ito); the legend and the table name each series too.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]


KINDS = {"bar": gettext_lazy("Bar"), "stacked": gettext_lazy("Stacked bar"), "line": gettext_lazy("Line")}


def _number(value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        return number if math.isfinite(number) else 0.0
    return 0.0


def _label(value) -> str:
    if isinstance(value, dt.date):
        return date_format(value, "M j")
    if value is None:
        return "–"
    if isinstance(value, (float, Decimal)):
        return f"{float(value):.2f}".rstrip("0").rstrip(".")
    return str(value)


def _text(cls: str, x: float, y: float, text, anchor: str = "middle") -> str:
    return f'<text class="{cls}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(_label(text))}</text>'


def _nice_step(peak: float, *, whole: bool) -> float:
    """A round gridline step (1, 2, 5 × 10ⁿ) so that four steps reach ``peak``; whole numbers
    keep whole steps. 1 when there is nothing to show (no division by zero)."""
    if peak <= 0:
        return 1.0
    wanted = peak / 4
    power = 10 ** math.floor(math.log10(wanted))
    step = next(m * power for m in (1, 2, 5, 10) if wanted <= m * power)
    return max(step, 1.0) if whole else step


def render(table: Table, *, chart_id: str | None = None) -> SafeString:
    """The table as an SVG chart (its kind from ``table.chart``)."""
    chart_id = escape(chart_id or f"chart-{table.key}")
    # One scale per chart: the series in the first series' unit; the others are in the table only.
    unit = table.units.get(table.columns[1], "") if len(table.columns) > 1 else ""
    keep = [i for i, name in enumerate(table.columns[1:], 1) if table.units.get(name, "") == unit]
    left_out = [name for i, name in enumerate(table.columns[1:], 1) if i not in keep]
    series = [table.columns[i] for i in keep]
    rows = [(row[0], *(row[i] for i in keep)) for row in table.rows]
    kind = table.chart if table.chart in ("bar", "stacked", "line") else "bar"
    title = escape(table.title)
    if rows:
        desc = escape(
            _("%(kind)s chart of %(series)s by %(by)s, %(n)s rows; the same numbers are in the table.")
            % {"kind": KINDS[kind], "series": ", ".join(series), "by": table.columns[0], "n": len(rows)}
        )
        if left_out:
            desc += escape(" " + _("Only in the table: %(columns)s.") % {"columns": ", ".join(left_out)})
    else:
        desc = escape(_("No data for these filters."))
    parts = [
        f'<svg class="chart chart-{kind}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{title}</title><desc id="{chart_id}-d">{desc}</desc>',
    ]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    base_y = TOP + plot_h
    if not rows or not series:
        parts.append(f'<text x="{WIDTH / 2:.0f}" y="{HEIGHT / 2:.0f}" text-anchor="middle" class="empty">{desc}</text>')
        parts.append("</svg>")
        return mark_safe("".join(parts))  # noqa: S308 — every text above is escaped

    values = [[_number(v) for v in row[1 : len(series) + 1]] for row in rows]
    if kind == "stacked":
        peak = max((sum(v for v in row if v > 0) for row in values), default=0.0)
    else:
        peak = max((v for row in values for v in row), default=0.0)
    whole = all(isinstance(v, int) or v is None for row in rows for v in row[1 : len(series) + 1])
    step = _nice_step(peak, whole=whole)
    top = step * 4

    def y(value: float) -> float:
        return base_y - max(value, 0.0) / top * plot_h

    # Axes and four gridlines, labelled.
    for i in range(5):
        tick = step * i
        ty = y(tick)
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}"/>')
        parts.append(_text("tick", LEFT - 6, ty + 4, tick if tick % 1 else int(tick), "end"))
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{base_y}"/>')
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base_y}" y2="{base_y}"/>')

    slot = plot_w / len(rows)
    widest = max(len(_label(row[0])) for row in rows) * 6.5 + 8  # px at the chart's 11px font
    label_every = max(1, math.ceil(widest / slot))
    for index, row in enumerate(rows):
        cx = LEFT + slot * (index + 0.5)
        if index % label_every == 0:
            parts.append(_text("xlabel", cx, base_y + 16, row[0]))

    if kind == "line":
        for s, name in enumerate(series):
            colour = PALETTE[s % len(PALETTE)]
            points = [
                (LEFT + slot * (i + 0.5), y(values[i][s]), rows[i][s + 1])
                for i in range(len(rows))
                if rows[i][s + 1] is not None
            ]
            if len(points) > 1:
                path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _v in points)
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
            for px, py, raw in points:
                tip = f"{escape(name)}: {escape(_label(raw))}"
                parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"><title>{tip}</title></circle>')
                if len(points) <= 14:
                    parts.append(_text("value", px, py - 6, raw))
    else:
        for index, row in enumerate(rows):
            x0 = LEFT + slot * index + slot * 0.1
            inner = slot * 0.8
            running = 0.0
            for s, name in enumerate(series):
                colour = PALETTE[s % len(PALETTE)]
                value, raw = values[index][s], row[s + 1]
                if kind == "stacked":
                    if value <= 0:
                        continue
                    y_top, y_bottom = y(running + value), y(running)
                    running += value
                    bx, bw = x0, inner
                else:
                    bw = inner / len(series)
                    bx = x0 + bw * s
                    y_top, y_bottom = y(value), base_y
                height = max(y_bottom - y_top, 0.0)
                parts.append(
                    f'<rect x="{bx:.1f}" y="{y_top:.1f}" width="{bw:.1f}" height="{height:.1f}" fill="{colour}">'
                    f"<title>{escape(_label(row[0]))} · {escape(name)}: {escape(_label(raw))}</title></rect>"
                )
                if height >= 12 and bw >= 14:
                    parts.append(_text("value inside", bx + bw / 2, y_top + 11, raw))
                elif kind != "stacked" and bw >= 14:
                    parts.append(_text("value", bx + bw / 2, y_top - 3, raw))

    if left_out:
        note = _("Only in the table: %(columns)s.") % {"columns": ", ".join(left_out)}
        parts.append(_text("note", LEFT, HEIGHT - 6, note, "start"))
    if len(series) > 1:
        x = LEFT
        for s, name in enumerate(series):
            colour = PALETTE[s % len(PALETTE)]
            parts.append(f'<rect x="{x}" y="6" width="10" height="10" fill="{colour}"/>')
            parts.append(f'<text class="legend" x="{x + 14}" y="15">{escape(name)}</text>')
            x += 22 + 7 * len(str(name))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text above is escaped
