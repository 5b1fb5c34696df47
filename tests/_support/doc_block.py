"""A generated block inside a Markdown page: read it, compare it, rewrite it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["DocBlock"]


@dataclass(frozen=True)
class DocBlock:
    """The text between ``begin`` and ``end`` markers of ``path``."""

    path: Path
    begin: str
    end: str

    def _split(self, text: str) -> tuple[int, int]:
        return text.index(self.begin) + len(self.begin), text.index(self.end)

    def current(self) -> str:
        text = self.path.read_text(encoding="utf-8")
        start, end = self._split(text)
        return text[start:end].strip()

    def write(self, content: str) -> bool:
        """Put ``content`` between the markers; True when the file changed."""
        text = self.path.read_text(encoding="utf-8")
        start, end = self._split(text)
        new = text[:start] + "\n" + content + "\n" + text[end:]
        if new == text:
            return False
        self.path.write_text(new, encoding="utf-8")
        return True
