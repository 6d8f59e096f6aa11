"""``runner.api.check_connector``: where a connector and an OpenAPI document disagree
(``runner connector check NAME --against DOC``)."""

from __future__ import annotations

from pathlib import Path

from runner.openapi_check import Disagreement, compare
from runner.openapi_doc import load_openapi


def check_connector(name: str, against: str | Path, *, here: str | Path = "."
                    ) -> list[Disagreement]:
    """The disagreements between the connector ``name`` (a file path, else
    ``connectors/NAME.yaml`` in ``here`` or a folder above it, else an installed connector)
    and the document ``against``; an empty list when they agree."""
    from runner.connectors import local, registry

    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        spec = local.load_local(path)
    else:
        found = local.find(name, Path(here).resolve())
        spec = local.load_local(found, expect=name) if found else registry.get(name)
    return compare(spec, load_openapi(against))
