"""Markdown and HTML for the documents governance writes (records of processing, impact assessments, breach
notices), from one simple structure: a title and sections of paragraphs, key-value lists and tables. Every value
is escaped for the format it goes into."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

Block = tuple[str, Any]  # ("p", text) | ("kv", [(k, v)]) | ("table", (headers, rows)) | ("list", [items])


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def p(self, text: str) -> Section:
        self.blocks.append(("p", text))
        return self

    def kv(self, pairs: list[tuple[str, Any]]) -> Section:
        self.blocks.append(("kv", pairs))
        return self

    def table(self, headers: list[str], rows: list[list[Any]]) -> Section:
        self.blocks.append(("table", (headers, rows)))
        return self

    def items(self, items: list[str]) -> Section:
        self.blocks.append(("list", items))
        return self


@dataclass
class Document:
    title: str
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str) -> Section:
        s = Section(title)
        self.sections.append(s)
        return s

    def markdown(self) -> str:
        out = [f"# {_md(self.title)}", ""]
        for s in self.sections:
            out += [f"## {_md(s.title)}", ""]
            for kind, body in s.blocks:
                out += [*_md_block(kind, body), ""]
        return "\n".join(out).rstrip() + "\n"

    def html(self) -> str:
        parts = [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>{_h(self.title)}</title><style>{_CSS}</style></head><body>",
            f"<h1>{_h(self.title)}</h1>",
        ]
        for s in self.sections:
            parts.append(f"<h2>{_h(s.title)}</h2>")
            parts += [_html_block(kind, body) for kind, body in s.blocks]
        parts.append("</body></html>")
        return "\n".join(parts) + "\n"


_CSS = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}"
    "table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
    "text-align:left;vertical-align:top}th{background:#f2f2f2}dt{font-weight:600}dd{margin:0 0 .4rem 1rem}"
)


def _text(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    return str(value)


def _md(value: Any) -> str:
    text = _text(value).replace("\n", " ")
    for ch in "\\`*_[]<>|#":
        text = text.replace(ch, "\\" + ch)
    return text


def _h(value: Any) -> str:
    return html.escape(_text(value), quote=True)


def _md_block(kind: str, body: Any) -> list[str]:
    if kind == "p":
        return [_md(body)]
    if kind == "kv":
        return [f"- **{_md(k)}**: {_md(v)}" for k, v in body]
    if kind == "list":
        return [f"- {_md(i)}" for i in body] or ["—"]
    headers, rows = body
    if not rows:
        return ["—"]
    lines = ["| " + " | ".join(_md(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]


def _html_block(kind: str, body: Any) -> str:
    if kind == "p":
        return f"<p>{_h(body)}</p>"
    if kind == "kv":
        return "<dl>" + "".join(f"<dt>{_h(k)}</dt><dd>{_h(v)}</dd>" for k, v in body) + "</dl>"
    if kind == "list":
        return "<ul>" + "".join(f"<li>{_h(i)}</li>" for i in body) + "</ul>" if body else "<p>—</p>"
    headers, rows = body
    if not rows:
        return "<p>—</p>"
    head = "".join(f"<th>{_h(h)}</th>" for h in headers)
    cells = "".join("<tr>" + "".join(f"<td>{_h(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"
