"""Cost caps for templates: what one template may compute, so none hangs or exhausts memory.

Jinja's sandbox stops templates from reaching Python internals, not from computing too much:
``{{ 9 ** (9 ** 8) }}`` takes minutes, ``{{ 'x' * 10 ** 10 }}`` 10 GB. The sandbox's documented
hook for operators (``intercepted_binops`` and ``call_binop``) lets each ``**``, ``*`` and ``+``
check the size of its result *before* computing it (``%`` its widths); the rendered text,
namespace attributes, ``range``, ``str.format`` and the padding methods and filters are capped
the same way. The plain-Python fast
path of the templating module evaluates no operator, so every computation goes through here.

The limits are far above what a playbook needs (a request body, an id, a count) and far below
what hurts: an integer of more than 4,300 digits (what Python itself refuses to print) and a
string or list of more than 10,000,000 characters or items. This module wires the caps into the
environment; the size arithmetic is :mod:`runner.template_sizes`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import update_wrapper
from typing import Any

from jinja2 import filters
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Namespace

from runner.template_base import MAX_LENGTH, MAX_RANGE
from runner.template_sizes import (
    CHECKS,
    FIELD,
    PERCENT,
    SEQUENCES,
    CostCapped,
    check_format,
    check_length,
    ints,
    over,
    unit,
)

_PADDING = frozenset(("ljust", "rjust", "center", "zfill"))


def capped_concat(pieces: Iterable[str]) -> str:
    """The rendered text, refused as soon as it passes the cap (Jinja joins the pieces here)."""
    out: list[str] = []
    total = 0
    for piece in pieces:
        total += len(piece)
        if total > MAX_LENGTH:
            raise over("the rendered text", total, MAX_LENGTH, "characters")
        out.append(piece)
    return "".join(out)


class CappedNamespace(Namespace):
    """``namespace()``: an attribute set in a loop (``ns.s = ns.s ~ ns.s``) is capped too."""

    def __setitem__(self, name: str, value: Any) -> None:
        if isinstance(value, SEQUENCES):
            check_length(f"setting namespace attribute '{name}'", len(value), unit(value))
        super().__setitem__(name, value)


def _capped_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise CostCapped(f"range of {len(r):,} numbers is over the cap of {MAX_RANGE:,} a "
                         "template may loop over")
    return r


def _capped_center(value: str, width: int = 80) -> str:
    check_length(f"center({width:,})", width)
    return filters.do_center(value, width)


def _capped_format(value: str, *args: Any, **kwargs: Any) -> str:
    check_format(str(value), PERCENT, [*args, *kwargs.values()])
    return filters.do_format(value, *args, **kwargs)


def _capped_indent(s: str, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    pad = len(width) if isinstance(width, str) else width
    check_length(f"indent({pad:,}) of {str(s).count(chr(10)) + 1:,} lines",
                  (str(s).count("\n") + 1) * pad + len(str(s)))
    return filters.do_indent(s, width, first, blank)


class CappedEnvironment(SandboxedEnvironment):
    intercepted_binops = frozenset(CHECKS)
    concat = staticmethod(capped_concat)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.update(range=_capped_range, namespace=CappedNamespace)
        self.filters.update(center=_capped_center, indent=_capped_indent, format=_capped_format)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        CHECKS[operator](left, right)
        return super().call_binop(context, operator, left, right)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        # 'x'.ljust(10 ** 10): a str method whose first argument is the result's length
        owner = getattr(obj, "__self__", None)
        if type(owner) is str and args and ints(args[0]):
            if obj.__name__ in _PADDING:
                check_length(f"{obj.__name__}({args[0]:,})", args[0])
            elif obj.__name__ == "expandtabs":
                check_length(f"expandtabs({args[0]:,})", len(owner) + owner.count("\t") * args[0])
        return super().call(context, obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # the sandbox hands templates its own str.format; its widths are capped here
        sandboxed = super().wrap_str_format(value)
        if sandboxed is None:
            return None
        fmt: str = value.__self__
        run: Callable[..., str] = sandboxed

        def capped(*args: Any, **kwargs: Any) -> str:
            values = [*args, *kwargs.values()]
            if args and isinstance(args[0], Mapping):  # format_map
                values += list(args[0].values())
            check_format(fmt, FIELD, values)
            return run(*args, **kwargs)

        return update_wrapper(capped, value)
