"""``runner.api.new_connector``: a connector file and its simulator skeleton made from an
OpenAPI 3 document (``runner connector new --from DOC NAME``)."""

from __future__ import annotations

from pathlib import Path

from runner.openapi_files import NewConnector
from runner.openapi_files import new_connector as _new


def new_connector(doc: str | Path, name: str, out: str | Path = ".", *,
                  force: bool = False) -> NewConnector:
    """Write ``OUT/connectors/NAME.yaml`` and ``OUT/connectors/NAME.py`` from the document
    ``doc``; what was written, its operations, and what could not be mapped (``notes``). A file
    there already is kept unless ``force``."""
    return _new(doc, name, out, force=force)
