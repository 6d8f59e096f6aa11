"""Markdown read back as a reader's renderer reads it (markdown-it-py, CommonMark with GFM
tables): the tables of a text, each a list of rows of cell texts, ``<br>`` as a new line."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token


def _text(inline: Token) -> str:
    out = []
    for child in inline.children or []:
        if child.type == "html_inline" and child.content.lower().startswith("<br"):
            out.append("\n")
        elif child.type in ("text", "code_inline"):
            out.append(child.content)
    return "".join(out).strip()


def tables(text: str) -> list[list[list[str]]]:
    out: list[list[list[str]]] = []
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        if token.type == "table_open":
            out.append([])
        elif token.type == "tr_open":
            out[-1].append([])
        elif token.type == "inline" and out and out[-1] and token.level >= 4:
            out[-1][-1].append(_text(token))
    return out
