"""Reading a report back: its embedded data, its tables' cells, what it would fetch."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any


class Page(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[list[str]]] = {}
        self.fetches: list[str] = []  # src/href attributes: a self-contained page has none
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._table = ""
        self._cell: list[str] | None = None
        self._script: dict[str, str | None] | None = None
        self._text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.fetches += [v or "" for k, v in attrs if k in ("src", "href", "srcset", "data")]
        if tag == "link":
            self.fetches.append(a.get("href") or "<link>")
        if tag == "table":
            self._table = a.get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "script":
            self._script, self._text = a, []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = ""
        elif tag == "script" and self._script is not None:
            self.scripts.append((self._script, "".join(self._text)))
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._script is not None:
            self._text.append(data)

    @property
    def data(self) -> dict[str, Any]:
        for attrs, body in self.scripts:
            if attrs.get("id") == "dw-data":
                doc: dict[str, Any] = json.loads(body)
                return doc
        raise AssertionError("no dw-data script in the page")

    def rows(self, table: str) -> list[list[str]]:
        return self.tables[table][1:]  # without the header


def walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    out = [node]
    for child in node.get("children", ()):
        out.extend(walk(child))
    return out
