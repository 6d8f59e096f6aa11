"""A run's inputs: the declared types applied to what the user gave, the defaults filled in,
and the secret ones masked where a run is stored or shown and taught to the redactor.
Here, not in the engine, because a batch, a schedule, a submit and ``plan`` need them before
any run starts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from runner.errors import InvalidInput, with_article
from runner.model import Playbook
from runner.secrets import MASK, Redactor


def coerce_inputs(playbook: Playbook, given: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs with defaults applied and ``-i key=value`` strings turned into declared types."""
    out: dict[str, Any] = {}
    unknown = [k for k in given if k not in playbook.inputs]
    if unknown:
        where = getattr(given, "where", {}).get(unknown[0])  # a file of inputs gave it
        raise InvalidInput(f"{where + ': ' if where else ''}{playbook.file}: playbook has no "
                           f"input '{unknown[0]}'",
                           hint=f"its inputs: {', '.join(playbook.inputs) or 'none'}")
    for name, spec in playbook.inputs.items():
        if name in given:
            value = given[name]
            # runner plan's placeholder for an input not given stays one, whatever the type
            if isinstance(value, str) and spec.type not in (None, "string") and \
                    not getattr(value, "is_placeholder", False):
                try:
                    value = json.loads(value)
                except ValueError:
                    shown = "a value that is not JSON" if spec.secret else repr(value)
                    kind = with_article(str(spec.type))
                    raise InvalidInput(
                        f"{spec.location}: input '{name}' must be {kind}, got {shown}",
                        hint="pass JSON for numbers, booleans, lists and objects") from None
            out[name] = value
        elif spec.has_default:
            out[name] = spec.default
        elif spec.required:
            raise InvalidInput(f"{spec.location}: missing input '{name}'"
                               + (f" ({spec.description})" if spec.description else ""),
                               hint=f"pass it with -i {name}=...")
    return out


def secret_inputs(playbook: Playbook) -> frozenset[str]:
    return frozenset(name for name, spec in playbook.inputs.items() if spec.secret)


def masked_inputs(playbook: Playbook, values: Mapping[str, Any]) -> dict[str, Any]:
    """Inputs as they are stored and shown: the playbook's secret inputs masked, whatever
    their type or length."""
    secret = secret_inputs(playbook)
    return {k: MASK if k in secret else v for k, v in values.items()}


def register_secret_inputs(playbook: Playbook, values: Mapping[str, Any],
                           redactor: Redactor) -> None:
    for name in secret_inputs(playbook):
        if values.get(name) is not None:
            value = values[name]  # a PIN may be a number: its text is what outputs would show
            redactor.add(value if isinstance(value, str) else json.dumps(value))
