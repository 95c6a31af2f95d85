"""A federated run's report: one row per round, written atomically after every change, and its plot."""

from __future__ import annotations

import html
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from veil.textio_out import atomic_output


@dataclass
class RoundRow:
    round: int
    status: str = "running"  # running | done | no-update | refused
    clients: int = 0  # clients whose update was aggregated
    dropped: int = 0
    epsilon_round: float = 0.0  # charged to the ledger for this round
    epsilon_total: float = 0.0  # the accountant's epsilon after this round
    loss: float | None = None
    accuracy: float | None = None
    seconds: float = 0.0
    note: str = ""


@dataclass
class RunReport:
    run_id: str
    dataset: str
    mode: str
    mechanism: str
    delta: float
    planned_rounds: int
    planned_epsilon: float
    rounds: list[RoundRow] = field(default_factory=list)
    status: str = "running"  # running | done | refused | failed
    error: str = ""
    model: dict[str, Any] | None = None
    path: Path | None = None
    started: float = field(default_factory=time.time)

    def row(self, server_round: int) -> RoundRow:
        for row in self.rounds:
            if row.round == server_round:
                return row
        row = RoundRow(server_round)
        self.rounds.append(row)
        return row

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc.pop("path")
        doc["epsilon_spent"] = max((r.epsilon_total for r in self.rounds if r.status != "refused"), default=0.0)
        doc["seconds"] = round(time.time() - self.started, 3)
        return doc

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(str(self.path), overwrite=True) as fh:
            json.dump(self.to_dict(), fh, indent=1)


def load_report(path: Path) -> dict[str, Any]:
    from veil.learn.encoding import load_json

    return load_json(path, "federated run report")


def plot_svg(report: dict[str, Any], width: int = 640, height: int = 320) -> str:
    """Accuracy per round as an SVG line chart (no plotting library needed)."""
    rows = [r for r in report.get("rounds", []) if r.get("accuracy") is not None]
    left, top, right, bottom = 56, 28, 16, 40
    w, h = width - left - right, height - top - bottom
    n = max(len(report.get("rounds", [])), 1)
    lo = min([0.5, *(float(r["accuracy"]) for r in rows)])

    def xy(r: dict[str, Any]) -> tuple[float, float]:
        x = left + (w * (int(r["round"]) - 1) / max(n - 1, 1) if n > 1 else w / 2)
        y = top + h * (1 - (float(r["accuracy"]) - lo) / max(1 - lo, 1e-9))
        return x, y

    points = " ".join(f"{x:.1f},{y:.1f}" for x, y in map(xy, rows))
    dataset, mode = (html.escape(str(report.get(k, ""))) for k in ("dataset", "mode"))
    title = f"{dataset}: accuracy per round ({mode}, epsilon {float(report.get('epsilon_spent', 0.0)):.3g})"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
        f'<text x="{left}" y="18">{title}</text>',
        f'<line x1="{left}" y1="{top + h}" x2="{left + w}" y2="{top + h}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + h}" stroke="#333"/>',
    ]
    for frac in (0.0, 0.5, 1.0):
        value = lo + (1 - lo) * frac
        y = top + h * (1 - frac)
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value:.2f}</text>')
    for i in range(1, n + 1):
        x = left + (w * (i - 1) / max(n - 1, 1) if n > 1 else w / 2)
        parts.append(f'<text x="{x:.1f}" y="{top + h + 16}" text-anchor="middle">{i}</text>')
    parts.append(f'<text x="{left + w / 2}" y="{height - 6}" text-anchor="middle">round</text>')
    if points:
        parts.append(f'<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="{points}"/>')
        parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1f6feb"/>' for x, y in map(xy, rows))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
