"""ROC curves as SVG on log-log axes (the low false-positive region is where a membership attack matters)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

import numpy as np

from veil.learn.audit.mia import Roc

_COLOURS = ("#1f6feb", "#d1242f", "#1a7f37", "#8250df", "#bf8700")
_LOW = 1e-3


def roc_svg(curves: Sequence[tuple[str, Roc]], title: str, width: int = 560, height: int = 420) -> str:
    left, top, right, bottom = 60, 30, 170, 44
    w, h = width - left - right, height - top - bottom

    def pos(fpr: float, tpr: float) -> tuple[float, float]:
        fx = (math.log10(max(fpr, _LOW)) - math.log10(_LOW)) / -math.log10(_LOW)
        ty = (math.log10(max(tpr, _LOW)) - math.log10(_LOW)) / -math.log10(_LOW)
        return left + w * fx, top + h * (1 - ty)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
             f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
             f'<text x="{left}" y="18">{html.escape(title)}</text>',
             f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#333"/>']  # fmt: skip
    for tick in (1e-3, 1e-2, 1e-1, 1.0):
        x, y = pos(tick, tick)
        parts.append(f'<text x="{x:.1f}" y="{top + h + 16}" text-anchor="middle">{tick:g}</text>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick:g}</text>')
    parts.append(f'<text x="{left + w / 2}" y="{height - 8}" text-anchor="middle">false-positive rate</text>')
    parts.append(f'<text x="14" y="{top + h / 2}" transform="rotate(-90 14 {top + h / 2})" '
                 f'text-anchor="middle">true-positive rate</text>')  # fmt: skip
    (x0, y0), (x1, y1) = pos(_LOW, _LOW), pos(1, 1)
    parts.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="#999" stroke-dasharray="4"/>')
    for i, (name, curve) in enumerate(curves):
        colour = _COLOURS[i % len(_COLOURS)]
        keep = np.unique(np.linspace(0, len(curve.fpr) - 1, min(len(curve.fpr), 600)).astype(int))
        points = " ".join("{:.1f},{:.1f}".format(*pos(float(curve.fpr[j]), float(curve.tpr[j]))) for j in keep)
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{points}"/>')
        label = f"{html.escape(name)} (AUC {curve.auc:.3f})"
        parts.append(f'<text x="{left + w + 10}" y="{top + 16 + 18 * i}" fill="{colour}">{label}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
