"""``runner lsp``: the language server, wired with pygls over stdio.

Each feature reads the document's current text (the unsaved buffer pygls keeps from didOpen
and didChange), works in code points on the modules beside this one, and the positions are
turned into the client's units (UTF-16 by default) here, at the edge. Diagnostics are sent on
open, change and save.
"""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as t
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from runner import __version__
from runner.lsp.buffer import cursor_at, parse
from runner.lsp.completion import complete
from runner.lsp.definition import definition
from runner.lsp.diagnostics import Problem, diagnose
from runner.lsp.facts import Facts
from runner.lsp.hover import hover

TRIGGERS = [".", "{", ":", " "]


def build(root: str | None = None) -> LanguageServer:
    server = LanguageServer("runner", __version__)
    elsewhere: dict[str, set[str]] = {}  # a buffer -> the other files it put diagnostics on

    def check(uri: str) -> None:
        doc = server.workspace.get_text_document(uri)
        file = to_fs_path(uri) or uri
        problems = diagnose(file, doc.source, root)
        by_uri: dict[str, list[t.Diagnostic]] = {uri: []}
        for p in problems:
            target = uri if p.file == file else (from_fs_path(p.file) or p.file)
            by_uri.setdefault(target, []).append(_diagnostic(server, target, p))
        for old in elsewhere.get(uri, set()) - set(by_uri):
            by_uri[old] = []  # fixed since: cleared
        elsewhere[uri] = set(by_uri) - {uri}
        for target, diagnostics in by_uri.items():
            server.text_document_publish_diagnostics(
                t.PublishDiagnosticsParams(uri=target, diagnostics=diagnostics,
                                           version=doc.version if target == uri else None))

    @server.feature(t.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LanguageServer, params: t.DidOpenTextDocumentParams) -> None:
        check(params.text_document.uri)

    @server.feature(t.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LanguageServer, params: t.DidChangeTextDocumentParams) -> None:
        check(params.text_document.uri)

    @server.feature(t.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LanguageServer, params: t.DidSaveTextDocumentParams) -> None:
        check(params.text_document.uri)  # an included file saved may change this one's

    @server.feature(t.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LanguageServer, params: t.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        for target in {uri, *elsewhere.pop(uri, set())}:
            server.text_document_publish_diagnostics(
                t.PublishDiagnosticsParams(uri=target, diagnostics=[]))

    @server.feature(t.TEXT_DOCUMENT_COMPLETION, t.CompletionOptions(trigger_characters=TRIGGERS))
    def completion(ls: LanguageServer, params: t.CompletionParams) -> t.CompletionList:
        doc = server.workspace.get_text_document(params.text_document.uri)
        at = doc.position_from_client_units(params.position)
        cur = cursor_at(doc.source, doc.path, at.line, at.character)
        if cur is None:
            return t.CompletionList(is_incomplete=False, items=[])
        items = complete(cur, Facts.of(cur.doc.data, doc.path))
        for item in items:
            edit = item.text_edit
            if isinstance(edit, t.TextEdit):
                edit.range = doc.position_codec.range_to_client_units(doc.lines, edit.range)
        return t.CompletionList(is_incomplete=False, items=items)

    @server.feature(t.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: LanguageServer, params: t.HoverParams) -> t.Hover | None:
        doc = server.workspace.get_text_document(params.text_document.uri)
        at = doc.position_from_client_units(params.position)
        parsed = parse(doc.source, doc.path)
        if parsed is None:
            return None
        text = hover(parsed, Facts.of(parsed.data, doc.path), list(doc.lines), at.line,
                     at.character)
        return t.Hover(t.MarkupContent(t.MarkupKind.Markdown, text)) if text else None

    @server.feature(t.TEXT_DOCUMENT_DEFINITION)
    def on_definition(ls: LanguageServer, params: t.DefinitionParams) -> t.Location | None:
        doc = server.workspace.get_text_document(params.text_document.uri)
        at = doc.position_from_client_units(params.position)
        parsed = parse(doc.source, doc.path)
        found = definition(parsed, Facts.of(parsed.data, doc.path), at.line) if parsed else None
        if found is None:
            return None
        file, line = found
        start = t.Position(line, 0)
        return t.Location(uri=from_fs_path(str(Path(file).resolve())) or str(file),
                          range=t.Range(start, start))

    return server


def _diagnostic(server: LanguageServer, uri: str, p: Problem) -> t.Diagnostic:
    doc: TextDocument = server.workspace.get_text_document(uri)
    where = t.Range(t.Position(p.line, p.col), t.Position(p.line, p.end))
    try:
        where = doc.position_codec.range_to_client_units(doc.lines, where)
    except (IndexError, OSError):  # a file gone from disk: the code points as they are
        pass
    return t.Diagnostic(range=where, message=p.message, severity=t.DiagnosticSeverity.Error,
                        source="runner validate")


def serve(root: str | None = None) -> None:
    """Talk LSP over stdin and stdout until the client says exit."""
    build(root).start_io()
