"""Probe results per family and target: rows for a table, JSON, and a self-contained HTML report."""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from typing import Any

from veil.probe.runner import Result
from veil.probe.suite import FAMILIES


def summary(results: list[Result]) -> list[dict[str, Any]]:
    """One row per (family, target): probes run, passed, blocked by the guard, failed, errors, pass rate."""
    counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for r in results:
        counts[(r.family, r.target)][r.status] += 1
    rows = []
    for family in FAMILIES:
        for (fam, target), c in counts.items():
            if fam != family:
                continue
            judged = c["pass"] + c["blocked"] + c["fail"]
            rows.append({"family": family, "target": target, "probes": sum(c.values()), "passed": c["pass"],
                         "blocked": c["blocked"], "failed": c["fail"], "errors": c["error"],
                         "pass_rate": round((c["pass"] + c["blocked"]) / judged, 3) if judged else None})  # fmt: skip
    return rows


def to_json(results: list[Result]) -> dict[str, Any]:
    return {"summary": summary(results), "results": [r.to_dict() for r in results]}


def to_html(results: list[Result], title: str = "Veil privacy probes") -> str:
    esc = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(title)}</title><style>"
             "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
             "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}.fail{background:#fdd}"
             ".pass,.blocked{background:#dfd}.error{background:#eee}pre{white-space:pre-wrap;margin:0}"
             f"</style></head><body><h1>{esc(title)}</h1><h2>Summary</h2><table><tr><th>family</th><th>target</th>"
             "<th>probes</th><th>passed</th><th>blocked by the guard</th><th>failed</th><th>errors</th>"
             "<th>pass rate</th></tr>"]  # fmt: skip
    for row in summary(results):
        rate = "-" if row["pass_rate"] is None else f"{row['pass_rate']:.0%}"
        parts.append("<tr>" + "".join(f"<td>{esc(str(row[k]))}</td>" for k in
                     ("family", "target", "probes", "passed", "blocked", "failed", "errors")) + f"<td>{rate}</td></tr>")
    parts.append("</table><h2>Probes</h2><p>Answers are masked: planted values and detected personal data appear "
                 "as their kind.</p><table><tr><th>target</th><th>probe</th><th>result</th><th>why</th>"
                 "<th>answer</th></tr>")  # fmt: skip
    for r in results:
        parts.append(f"<tr class='{esc(r.status)}'><td>{esc(r.target)}</td><td>{esc(r.probe)}</td>"
                     f"<td>{esc(r.status)}</td><td>{esc('; '.join(r.evidence))}</td>"
                     f"<td><pre>{esc(r.answer)}</pre></td></tr>")  # fmt: skip
    parts.append("</table></body></html>\n")
    return "".join(parts)
