"""An editor's side of the conversation: ``runner lsp`` started as a process (the venv's own
``runner`` script) and spoken to over its stdin and stdout with pygls's LanguageClient, the
client of the same project (no other test dependency). Each test runs its exchange in
``asyncio.run``; the diagnostics the server publishes are kept per file."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

try:
    from lsprotocol import types as t
    from pygls.lsp.client import LanguageClient
except ImportError:  # pragma: no cover - the dev extra has pygls
    if os.environ.get("CI") == "true":
        raise
    pytest.skip("pygls is not installed (pip install -e '.[dev]')", allow_module_level=True)

RUNNER = str(Path(sys.executable).with_name("runner"))
WAIT = 60.0  # only a hung server ever gets near it: no assertion is about time


class Editor:
    def __init__(self, client: LanguageClient) -> None:
        self.client = client
        self.history: dict[str, list[list[t.Diagnostic]]] = {}  # per file, each publication
        self.arrived = asyncio.Condition()
        self.versions: dict[str, int] = {}

    async def open(self, path: Path, text: str | None = None) -> str:
        uri = path.resolve().as_uri()
        self.versions[uri] = 1
        self.client.text_document_did_open(t.DidOpenTextDocumentParams(t.TextDocumentItem(
            uri=uri, language_id="yaml", version=1,
            text=path.read_text(encoding="utf-8") if text is None else text)))
        return uri

    async def change(self, uri: str, text: str) -> None:
        self.versions[uri] += 1
        self.client.text_document_did_change(t.DidChangeTextDocumentParams(
            t.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]),
            [t.TextDocumentContentChangeWholeDocument(text=text)]))

    async def diagnostics(self, uri: str, after: int = 0) -> list[t.Diagnostic]:
        """The diagnostics published for ``uri`` (the ``after``-th publication on, 0: any)."""
        async with self.arrived:
            await asyncio.wait_for(self.arrived.wait_for(
                lambda: len(self.history.get(uri, [])) > after), WAIT)
            return self.history[uri][-1]

    async def completion(self, uri: str, line: int, col: int) -> list[t.CompletionItem]:
        got = await asyncio.wait_for(self.client.text_document_completion_async(
            t.CompletionParams(t.TextDocumentIdentifier(uri), t.Position(line, col))), WAIT)
        if got is None:
            return []
        return list(got.items if isinstance(got, t.CompletionList) else got)

    async def hover(self, uri: str, line: int, col: int) -> str:
        got = await asyncio.wait_for(self.client.text_document_hover_async(
            t.HoverParams(t.TextDocumentIdentifier(uri), t.Position(line, col))), WAIT)
        if got is None:
            return ""
        assert isinstance(got.contents, t.MarkupContent)
        return got.contents.value

    async def definition(self, uri: str, line: int, col: int) -> Any:
        return await asyncio.wait_for(self.client.text_document_definition_async(
            t.DefinitionParams(t.TextDocumentIdentifier(uri), t.Position(line, col))), WAIT)


@asynccontextmanager
async def editor(*args: str) -> AsyncIterator[Editor]:
    """``runner lsp`` started and initialized; shut down and exited at the end."""
    client = LanguageClient("test-editor", "1")
    ed = Editor(client)

    @client.feature(t.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    async def published(params: t.PublishDiagnosticsParams) -> None:
        async with ed.arrived:
            ed.history.setdefault(params.uri, []).append(list(params.diagnostics))
            ed.arrived.notify_all()

    await client.start_io(RUNNER, "lsp", "--stdio", *args)
    try:
        await asyncio.wait_for(client.initialize_async(t.InitializeParams(
            capabilities=t.ClientCapabilities(), process_id=os.getpid())), WAIT)
        client.initialized(t.InitializedParams())
        yield ed
        await asyncio.wait_for(client.shutdown_async(None), WAIT)
        client.exit(None)
    finally:
        await asyncio.wait_for(client.stop(), WAIT)


class Session:
    """One server for a module's tests: its client on an event loop in a thread of its own;
    each test hands it a scenario (each test's files are its own, so are their diagnostics)."""

    def __init__(self, *args: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.context = editor(*args)
        self.ed: Editor = self._wait(self.context.__aenter__())

    def _wait(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(WAIT * 4)

    def __call__(self, scenario: Callable[[Editor], Coroutine[Any, Any, None]]) -> None:
        self._wait(scenario(self.ed))

    def close(self) -> None:
        try:
            self._wait(self.context.__aexit__(None, None, None))
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(WAIT)
