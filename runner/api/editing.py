"""``runner.api.lsp``: serve the language server (``runner lsp``) on stdin and stdout until
the editor ends it. pygls is imported here and in ``runner.lsp`` only (the ``lsp`` extra)."""

from __future__ import annotations

from runner.errors import InvalidInput


def lsp(*, root: str | None = None) -> None:
    """Serve LSP over stdio; ``root``: the folder includes must stay inside, as for
    ``runner validate --root`` (default: each playbook's folder)."""
    try:
        from runner.lsp.server import serve
    except ImportError as e:
        raise InvalidInput(f"runner lsp needs {e.name}, which is not installed",
                           hint="pip install 'runner[lsp]'") from None
    serve(root=root)
