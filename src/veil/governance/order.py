"""The order erasure works in: children before parents (a row is deleted only after every row that points to it),
with the tables of a foreign-key cycle grouped together (Tarjan's strongly connected components)."""

from __future__ import annotations

from collections.abc import Iterable

from veil.governance.sources import Edge


def components(tables: Iterable[str], edges: Iterable[Edge]) -> list[list[str]]:
    """Strongly connected components of the child -> parent graph, children's components first."""
    names = sorted(set(tables))
    graph: dict[str, list[str]] = {t: [] for t in names}
    for e in edges:
        if e.child in graph and e.parent in graph:
            graph[e.child].append(e.parent)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:  # iterative Tarjan: deep schemas never reach the recursion limit
        nonlocal counter
        work = [(start, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            succ = graph[node]
            if i < len(succ):
                work.append((node, i + 1))
                nxt = succ[i]
                if nxt not in index:
                    work.append((nxt, 0))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                out.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])

    for t in names:
        if t not in index:
            visit(t)
    # Tarjan emits a component after every component it reaches (its parents): reverse for children first.
    return list(reversed(out))


def cyclic(component: list[str], edges: Iterable[Edge]) -> list[Edge]:
    """The edges inside a component: a cycle (or a table referencing itself)."""
    members = set(component)
    return [e for e in edges if e.child in members and e.parent in members]


class CycleError(Exception):
    """Tables whose rows reference each other only through NOT NULL foreign keys."""

    def __init__(self, tables: list[str], edge: Edge) -> None:
        super().__init__(", ".join(tables))
        self.tables = tables
        self.edge = edge


def deletion_order(tables: Iterable[str], edges: Iterable[Edge]) -> tuple[list[str], list[Edge]]:
    """Tables children first, and the foreign keys to null before deleting (one nullable link per cycle is
    enough; all nullable ones inside a cycle are taken). Declared references are no constraint and do not count."""
    keys = [e for e in edges if not e.declared]
    order: list[str] = []
    to_break: list[Edge] = []
    for comp in components(tables, keys):
        inner = cyclic(comp, keys)
        if not inner:
            order += comp
            continue
        strict = [e for e in inner if not e.nullable]
        for sub in components(comp, strict):
            left = cyclic(sub, strict)
            if left:
                raise CycleError(comp, left[0])
            order += sub
        to_break += [e for e in inner if e.nullable]
    return order, to_break
