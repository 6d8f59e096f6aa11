"""``runner.api.lsp``: serve the language server (``runner lsp``) on stdin and stdout until
the editor ends it. pygls is imported here and in ``runner.lsp`` only (the ``lsp`` extra)."""

from __future__ import annotations

from runner.extras import absent, need


def lsp(*, root: str | None = None) -> None:
    """Serve LSP over stdio; ``root``: the folder includes must stay inside, as for
    ``runner validate --root`` (default: each playbook's folder)."""
    need("lsp", "runner lsp")
    try:
        from runner.lsp.server import serve
    except ImportError as e:
        raise absent("lsp", "runner lsp", e) from None
    serve(root=root)
