"""The one sandboxed Jinja2 environment every template and expression runs in: strict about
undefined names, the sandbox with cost caps (:mod:`runner.template_limits`), and the filters,
tests and globals playbooks may use beyond Jinja's own (``b64encode``, ``sha1``, ``to_json``,
``fail()``, ``is mapping``...)."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from runner.template_base import TemplateRaised
from runner.template_limits import CappedEnvironment


def _b64encode(value: Any) -> str:
    data = value if isinstance(value, bytes) else str(value).encode("utf-8")
    return base64.b64encode(data).decode("ascii")


def _b64decode(value: str) -> str:
    return base64.b64decode(value).decode("utf-8")


def _sha1(value: Any) -> str:
    return hashlib.sha1(str(value).encode("utf-8")).hexdigest()


def _to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _from_json(value: str) -> Any:
    return json.loads(value)


def _fail(message: str) -> Any:
    raise TemplateRaised(str(message))


def make_env() -> SandboxedEnvironment:
    env = CappedEnvironment(  # the sandbox, with cost caps on what a template may compute
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, cache_size=0
    )
    env.filters.update(
        b64encode=_b64encode, b64decode=_b64decode, sha1=_sha1, to_json=_to_json,
        from_json=_from_json,
    )
    env.tests["mapping"] = lambda v: isinstance(v, Mapping)
    env.globals["fail"] = _fail
    return env


ENV = make_env()
