"""Line plots as SVG text, for model cards (no plotting library needed).

``line_plot_svg`` draws one or more series of ``(x, y)`` points in a panel
with axes, ticks and labels; ``side_by_side`` puts panels in one SVG. The
output is plain, deterministic text: it diffs in git and renders on GitHub.
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


def nice_ticks(low, high, count=5):
    """About ``count`` round tick values covering ``[low, high]``."""
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"ticks need finite bounds, got {low}, {high}")
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def _label(value):
    return f"{value:,.0f}" if abs(value) >= 100 or value == int(value) else f"{value:g}"


def line_plot_svg(series, x_label, y_label, title="", width=420, height=300, log_y=False,
                  hlines=()):
    """One panel: ``series`` is ``[(name, [(x, y), ...]), ...]``; ``hlines``
    ``[(name, y), ...]`` are dashed horizontal references (targets). With
    ``log_y`` the y axis is logarithmic (FID spans 300 to 5). Returns the
    panel's SVG elements (a ``<g>``) and its size, for ``side_by_side``."""
    points = [p for _, values in series for p in values]
    if not points:
        raise ValueError("nothing to plot: every series is empty")
    xs = [x for x, _ in points]
    ys = [y for _, y in points] + [y for _, y in hlines]
    if log_y and min(ys) <= 0:
        raise ValueError("a logarithmic axis needs positive values")
    left, right, top, bottom = 58, 12, 28, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    x_ticks = nice_ticks(min(0, min(xs)), max(xs))  # steps and minutes count from 0
    if log_y:
        low, high = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
        high = max(high, low + 1)
        y_ticks = [10 ** e * m for e in range(low, high + 1) for m in (1, 2, 5) if 10 ** e * m <= 10 ** high]
        y_min, y_max = 10 ** low, 10 ** high
        transform = math.log10
    else:
        y_ticks = nice_ticks(min(ys), max(ys))
        y_min, y_max = y_ticks[0], y_ticks[-1]
        transform = float
    x_min, x_max = x_ticks[0], x_ticks[-1]

    def sx(x):
        return left + (x - x_min) / (x_max - x_min) * plot_w

    def sy(y):
        span = transform(y_max) - transform(y_min)
        return top + plot_h - (transform(y) - transform(y_min)) / span * plot_h

    out = [f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="white" stroke="#444"/>']
    if title:
        out.append(f'<text x="{left + plot_w / 2:.1f}" y="18" text-anchor="middle" font-size="13">'
                   f"{escape(title)}</text>")
    for x in x_ticks:
        out.append(f'<line x1="{sx(x):.1f}" y1="{top + plot_h}" x2="{sx(x):.1f}" y2="{top + plot_h + 4}" stroke="#444"/>')
        out.append(f'<text x="{sx(x):.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11">'
                   f"{_label(x)}</text>")
    for y in y_ticks:
        out.append(f'<line x1="{left}" y1="{sy(y):.1f}" x2="{left + plot_w}" y2="{sy(y):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 5}" y="{sy(y) + 4:.1f}" text-anchor="end" font-size="11">{_label(y)}</text>')
    out.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle" font-size="12">'
               f"{escape(x_label)}</text>")
    out.append(f'<text transform="translate(14,{top + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" '
               f'font-size="12">{escape(y_label)}</text>')
    for i, (name, y) in enumerate(hlines):
        out.append(f'<line class="reference" x1="{left}" y1="{sy(y):.1f}" x2="{left + plot_w}" y2="{sy(y):.1f}" '
                   f'stroke="#888" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{left + plot_w - 4}" y="{sy(y) - 3:.1f}" text-anchor="end" font-size="10" '
                   f'fill="#555">{escape(name)}</text>')
    for i, (name, values) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in values)
        out.append(f'<polyline class="series" data-name="{escape(name)}" fill="none" stroke="{colour}" '
                   f'stroke-width="1.8" points="{coords}"/>')
        for x, y in values:
            out.append(f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="2.5" fill="{colour}"/>')
        if len(series) > 1:
            out.append(f'<text x="{left + 8}" y="{top + 16 + 14 * i}" font-size="11" fill="{colour}">'
                       f"{escape(name)}</text>")
    return "\n".join(out), (width, height)


def side_by_side(panels):
    """One SVG document holding ``panels`` (from ``line_plot_svg``) in a row."""
    width = sum(size[0] for _, size in panels)
    height = max(size[1] for _, size in panels)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    offset = 0
    for body, (panel_width, _) in panels:
        parts += [f'<g transform="translate({offset},0)">', body, "</g>"]
        offset += panel_width
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def fid_curve_svg(curve, targets=()):
    """The training curve of ``fid_curve.json`` (``zoo.training.fid_tracking``):
    FID against step and against minutes of training (scoring time left
    out), with ``targets`` ``[(name, fid), ...]`` as dashed lines."""
    points = curve["points"]
    metric = "FID" if curve.get("metric", "fid") == "fid" else "classifier FID"
    y_label = f"{metric} ({curve.get('num_samples', '?')} samples)"
    by_step = [(p["step"], p["fid"]) for p in points]
    by_time = [(p["train_seconds"] / 60, p["fid"]) for p in points]
    return side_by_side([
        line_plot_svg([("", by_step)], "training step", y_label, "against steps", log_y=True, hlines=targets),
        line_plot_svg([("", by_time)], "minutes of training", y_label, "against wall time", log_y=True,
                      hlines=targets),
    ])


def first_time_below(curve, threshold):
    """``(step, train_seconds)`` of the first point at or below ``threshold``, or None."""
    for point in curve["points"]:
        if point["fid"] <= threshold:
            return point["step"], point["train_seconds"]
    return None
