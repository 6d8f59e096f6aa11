"""``runner connector new --from DOC NAME``: the connector file and its simulator skeleton,
written where a repository's connectors are found (``connectors/NAME.yaml`` and
``connectors/NAME.py``, see :mod:`runner.connectors.local`), then loaded back exactly as a
playbook would load them, so what is written is known to validate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from runner.connectors.local import FOLDER
from runner.errors import InvalidInput
from runner.openapi_connector import generate
from runner.openapi_doc import load_openapi
from runner.openapi_simulator import simulator_source


@dataclass(frozen=True)
class NewConnector:
    """The files ``runner connector new`` wrote."""
    name: str
    connector: Path
    simulator: Path
    operations: tuple[str, ...]
    notes: tuple[str, ...]  # what could not be mapped, or was made up


def _dumper() -> type:
    import yaml

    class Dumper(yaml.SafeDumper):
        """Text of several lines as a ``|`` block, as a person writes it."""

    def text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    Dumper.add_representer(str, text)
    return Dumper


def new_connector(doc_path: str | Path, name: str, out: str | Path = ".", *,
                  force: bool = False) -> NewConnector:
    import yaml

    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise InvalidInput(f"'{name}' cannot name a connector",
                           hint="lower case letters, digits and _, starting with a letter")
    from runner.connectors import registry

    if name in registry.installed_names():
        raise InvalidInput(f"'{name}' is an installed connector's name",
                           hint="a repository's connector may not take it: choose another")
    doc = load_openapi(doc_path)
    if not doc.operations:
        raise InvalidInput(f"{doc_path}: the document has no operations under paths:")
    folder = Path(out) / FOLDER
    yaml_path, py_path = folder / f"{name}.yaml", folder / f"{name}.py"
    for p in (yaml_path, py_path):
        if p.exists() and not force:
            raise InvalidInput(f"{p} exists already", hint="--force writes over it")
    made = generate(doc, name)
    notes = made.notes
    source = simulator_source(doc, name, made.auth, Path(doc_path).name, notes)
    head = [f"# {name}: written by `runner connector new --from {Path(doc_path).name}` from "
            f"{doc.title or 'the document'} (OpenAPI {doc.version}); edit it as you need.",
            "# Check it against the document again with "
            f"`runner connector check {name} --against {Path(doc_path).name}`."]
    head += ["# Not mapped, or made up:"] + [f"# - {n}" for n in notes] if notes else []
    body = yaml.dump(made.connector, Dumper=_dumper(), sort_keys=False, allow_unicode=True,
                     width=100)
    folder.mkdir(parents=True, exist_ok=True)
    yaml_path.write_text("\n".join(head) + "\n" + body, encoding="utf-8")
    py_path.write_text(source, encoding="utf-8")
    from runner.connectors.local import load_local

    load_local(yaml_path, expect=name)  # what a playbook will load: it must load
    return NewConnector(name, yaml_path, py_path, tuple(op.name for op in doc.operations),
                        tuple(notes))
