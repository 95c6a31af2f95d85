"""Token formats: ``<{entity}_{n}>`` (default), ``User{n:05d}``, ``{entity}-{hash:10}`` ...

A format needs ``{n}`` (a per-scope, per-entity sequence) or ``{hash}`` (hex of the keyed lookup hash) so that
tokens are unique. Every format also yields a tolerant finder: a model may change case, brackets or
separators around a token ("<PERSON_1>" -> "[person 1]") and ``restore`` still recognises it.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field

from veil.errors import ConfigError

DEFAULT_FORMAT = "<{entity}_{n}>"
_OPEN = r"(?:[<\[({«][ ]?)?"  # a space is absorbed only together with a bracket
_CLOSE = r"(?:[ ]?[>\])}»])?"


@dataclass(frozen=True)
class TokenFormat:
    template: str = DEFAULT_FORMAT
    _fields: tuple[tuple[str, str], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            parsed = [(lit, name, spec) for lit, name, spec, _ in string.Formatter().parse(self.template)]
        except ValueError as exc:
            raise ConfigError(f"token format {self.template!r}: {exc}") from None
        fields = tuple((name, spec or "") for _, name, spec in parsed if name is not None)
        names = {name for name, _ in fields}
        if not names & {"n", "hash"}:
            raise ConfigError(f"token format {self.template!r} needs {{n}} or {{hash}} to make tokens unique")
        unknown = names - {"n", "hash", "entity"}
        if unknown:
            raise ConfigError(f"token format {self.template!r}: unknown field(s) {sorted(unknown)}")
        for name, spec in fields:
            if name == "hash" and spec and not (spec.isdigit() and 6 <= int(spec) <= 64):
                raise ConfigError(f"token format {self.template!r}: {{hash:N}} needs N between 6 and 64")
            if name == "n" and spec:
                try:
                    width = len(format(1, spec))
                except (ValueError, MemoryError, OverflowError):
                    width = 10**9
                if width > 40:
                    raise ConfigError(f"token format {self.template!r}: bad number format {spec!r} (at most 40 wide)")
        object.__setattr__(self, "_fields", fields)

    @property
    def sequential(self) -> bool:
        return any(name == "n" for name, _ in self._fields)

    @property
    def hash_length(self) -> int:
        for name, spec in self._fields:
            if name == "hash":
                return int(spec) if spec else 10
        return 0

    def render(self, entity: str, n: int = 0, digest: str = "") -> str:
        out = []
        for lit, name, spec, _ in string.Formatter().parse(self.template):
            out.append(lit)
            if name == "entity":
                out.append(entity)
            elif name == "n":
                out.append(format(n, spec or ""))
            elif name == "hash":
                out.append(digest[: self.hash_length])
        return "".join(out)

    def finder(self, entities: list[str]) -> re.Pattern[str]:
        """A case-insensitive regex for this format's tokens, tolerant of brackets and separators."""
        parts: list[str] = []
        for lit, name, _spec, _ in string.Formatter().parse(self.template):
            core = lit.strip("<>[](){}«»")
            if core:
                words = [re.escape(w) for w in re.split(r"[ _\-]", core)]
                parts.append(r"[ _\-]?".join(words) + (r"[ _\-]?" if name else ""))
            if name == "entity":
                alts = "|".join(
                    r"[ _\-]?".join(re.escape(w) for w in e.split("_")) for e in sorted(entities, key=len)[::-1]
                )
                parts.append(rf"(?P<entity>{alts or '[A-Z_]+'})[ _\-]?")
            elif name == "n":
                parts.append(r"(?P<n>\d+)")
            elif name == "hash":
                parts.append(rf"(?P<hash>[0-9a-fA-F]{{{self.hash_length}}})")
        body = "".join(parts)
        return re.compile(rf"{_OPEN}(?<![\w]){body}(?![\w]){_CLOSE}", re.IGNORECASE)

    def canonical(self, m: re.Match[str], entity_names: dict[str, str]) -> str | None:
        """The exact token a tolerant match stands for (``None`` if it cannot be one)."""
        groups = m.groupdict()
        entity = ""
        if "entity" in groups:
            key = re.sub(r"[ _\-]", "", groups["entity"] or "").upper()
            entity = entity_names.get(key, "")
            if not entity:
                return None
        n = int(groups["n"]) if groups.get("n") else 0
        digest = (groups.get("hash") or "").lower()
        return self.render(entity, n, digest)
