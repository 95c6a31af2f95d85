"""Charts as inline SVG drawn on the server: no script, no CDN, nothing the Content-Security-Policy must allow."""

from __future__ import annotations

from html import escape

from markupsafe import Markup


def bars(pairs: list[tuple[str, float]], *, width: int = 560, row: int = 22, unit: str = "") -> Markup:
    """A horizontal bar chart of (label, value) pairs."""
    if not pairs:
        return Markup('<p class="muted">no data yet</p>')
    top = max(v for _, v in pairs) or 1.0
    label_w, bar_w = 190, width - 190 - 70
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {row * len(pairs) + 4}" width="{width}">']
    for i, (label, value) in enumerate(pairs):
        y = i * row + 2
        w = max(1.0, bar_w * value / top)
        text = escape(label if len(label) <= 28 else label[:27] + "…")
        parts.append(f'<text x="0" y="{y + 15}" class="lbl">{text}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" class="bar"/>')
        shown = f"{value:,.0f}" if value >= 10 or value == int(value) else f"{value:.2f}"
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" class="val">{escape(shown + unit)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def columns(pairs: list[tuple[str, float]], *, width: int = 560, height: int = 140) -> Markup:
    """A column chart over time (label per column: a day)."""
    if not pairs:
        return Markup('<p class="muted">no data yet</p>')
    top = max(v for _, v in pairs) or 1.0
    step = width / len(pairs)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height + 18}" width="{width}">']
    for i, (label, value) in enumerate(pairs):
        h = max(1.0, (height - 10) * value / top)
        x = i * step
        parts.append(f'<rect x="{x + 1:.1f}" y="{height - h:.1f}" width="{max(1.0, step - 2):.1f}" height="{h:.1f}" '
                     f'class="bar"><title>{escape(label)}: {value:,.0f}</title></rect>')  # fmt: skip
    parts.append(f'<text x="0" y="{height + 14}" class="lbl">{escape(pairs[0][0])}</text>')
    parts.append(f'<text x="{width}" y="{height + 14}" class="lbl" text-anchor="end">{escape(pairs[-1][0])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
