"""A self-contained HTML report of table scans: one section per table, a chart per column (inline SVG, no
scripts, no external files), masked examples and the reasons behind each classification."""

from __future__ import annotations

import datetime as dt
from html import escape

from veil.detect.columns import ColumnProfile
from veil.tabular.pipeline import TableScan

_ROLE_COLOURS = {
    "identifier": "#c0392b",
    "quasi_identifier": "#d68910",
    "sensitive": "#8e44ad",
    "free_text": "#2471a3",
    "other": "#7f8c8d",
}
_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1c2833;max-width:1100px}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d5d8dc;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{border-bottom:1px solid #eaeded;padding:.4rem;
text-align:left;vertical-align:top}.role{color:#fff;border-radius:3px;padding:1px 6px;font-size:.8rem}
.why{color:#566573;font-size:.8rem}.ex{font-family:ui-monospace,monospace;font-size:.8rem;color:#566573}
.summary span{display:inline-block;margin-right:1.5rem}
"""


def _chart(profile: ColumnProfile, width: int = 220) -> str:
    """Horizontal bars: the share of sampled cells per entity type, and the share of empty cells."""
    bars = [(e.entity, e.share if e.share else e.confidence, e.share == 0.0) for e in profile.entities[:5]]
    bars.append(("empty", profile.null_share, False))
    row_h = 16
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 150}" height="{row_h * len(bars) + 4}" '
             f'role="img" aria-label="share of cells per entity type">']  # fmt: skip
    for i, (label, share, by_name) in enumerate(bars):
        y = i * row_h + 2
        length = max(1, round(share * width)) if share else 0
        colour = "#bdc3c7" if label == "empty" else ("#aab7b8" if by_name else "#2e86c1")
        text = f"{share:.0%}" + (" (name)" if by_name else "")
        parts.append(f'<text x="0" y="{y + 11}" font-size="11">{escape(label[:18])}</text>'
                     f'<rect x="120" y="{y}" width="{length}" height="{row_h - 4}" fill="{colour}"/>'
                     f'<text x="{124 + length}" y="{y + 11}" font-size="10">{text}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _section(scan: TableScan) -> str:
    personal = scan.personal
    rows = []
    for p in scan.columns:
        colour = _ROLE_COLOURS[p.role]
        entities = ", ".join(f"{escape(e.entity)} {e.confidence:.2f}" for e in p.entities) or "&mdash;"
        reasons = "<br>".join(escape(r) for r in p.reasons) or "no personal data found in the sample"
        examples = ", ".join(escape(x) for x in p.examples)
        rows.append(
            f"<tr><td><b>{escape(p.name)}</b><br><span class=ex>{escape(p.dtype)}</span></td>"
            f'<td><span class=role style="background:{colour}">{p.role.replace("_", " ")}</span></td>'
            f"<td>{entities}<div class=why>{reasons}</div><div class=ex>{examples}</div></td>"
            f"<td>{_chart(p)}</td></tr>"
        )
    warnings = "".join(f"<li>{escape(w)}</li>" for w in scan.warnings)
    return (
        f"<h2>{escape(scan.source)}</h2><p class=summary><span>{scan.rows_sampled} rows sampled</span>"
        f"<span>{len(scan.columns)} columns</span><span>{len(personal)} with personal data</span></p>"
        + (f"<ul>{warnings}</ul>" if warnings else "")
        + "<table><tr><th>column</th><th>role</th><th>entity types (confidence), why</th><th>cells</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def render_html(scans: list[TableScan], title: str = "Veil data scan") -> str:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = "".join(_section(s) for s in scans)
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{_CSS}</style></head><body><h1>{escape(title)}</h1><p>Generated {when} by Veil. Examples are "
        f"masked; bars show the share of sampled cells holding each type (grey: evidence from the column name "
        f"only).</p>{body}</body></html>\n"
    )
