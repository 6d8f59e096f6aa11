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
string or list of more than 10,000,000 characters or items.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from functools import update_wrapper
from typing import Any

from jinja2 import filters
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Namespace

MAX_DIGITS = 4_300
MAX_LENGTH = 10_000_000
MAX_RANGE = 100_000  # Jinja's sandbox limit too; here with a message that names it
_SEQUENCES = (str, list, tuple)
_PADDING = frozenset(("ljust", "rjust", "center", "zfill"))


class CostCapped(SecurityError):
    """A template would compute more than a cap allows (a SecurityError: the sandbox refused)."""


def _over(what: str, size: float, limit: int, unit: str) -> CostCapped:
    return CostCapped(f"{what} would make {size:,.0f} {unit}, over the cap of {limit:,} {unit} "
                      "that a template may compute")


def _digits(n: int) -> float:
    return abs(n).bit_length() * math.log10(2)


def _ints(*values: Any) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def _check_length(what: str, length: int, unit: str = "characters") -> None:
    if length > MAX_LENGTH:
        raise _over(what, length, MAX_LENGTH, unit)


def _unit(seq: Any) -> str:
    return "characters" if isinstance(seq, str) else "items"


def _kind(seq: Any) -> str:
    return "a string" if isinstance(seq, str) else "a list" if isinstance(seq, list) else "a tuple"


def check_power(base: Any, exp: Any) -> None:
    if _ints(base, exp) and exp > 0 and abs(base) > 1:
        digits = exp * math.log10(abs(base))
        if digits > MAX_DIGITS:
            raise _over(f"{base} ** {exp}", digits, MAX_DIGITS, "digits")


def check_product(left: Any, right: Any) -> None:
    if _ints(left, right):
        digits = _digits(left) + _digits(right)
        if digits > MAX_DIGITS + 1:
            raise _over(f"{_short(left)} * {_short(right)}", digits, MAX_DIGITS, "digits")
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, _SEQUENCES) and _ints(times):
            _check_length(f"{_kind(seq)} of length {len(seq):,} repeated {times:,} times",
                          len(seq) * times, _unit(seq))


def check_sum(left: Any, right: Any) -> None:
    if isinstance(left, _SEQUENCES) and isinstance(right, _SEQUENCES):
        _check_length(f"{_kind(left)} of length {len(left):,} + one of {len(right):,}",
                      len(left) + len(right), _unit(left))


def _short(n: int) -> str:
    return str(n) if _digits(n) < 30 else f"an integer of ~{_digits(n):,.0f} digits"


# a printf conversion ('%-10.3f', '%*d') and the spec of a str.format field ('{:>{w}}')
_PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d*)(?:\.(?:\*|\d*))?[a-zA-Z%]")
_FIELD = re.compile(r"\{[^{}]*:((?:[^{}]|\{[^{}]*\})*)\}")


def check_format(fmt: str, spec: re.Pattern[str], args: Iterable[Any]) -> None:
    """A width or precision over the cap in a format, written in it or given as an argument
    (``'%*d' % (n, 1)``, ``'{:>{w}}'.format(1, w=n)``): Python would allocate it at once."""
    specs = [m.group(1) if m.groups() else m.group(0) for m in spec.finditer(fmt)]
    numbers = [int(n) for s in specs for n in re.findall(r"\d+", s)]
    if any("*" in s or "{" in s for s in specs):
        numbers += [a for a in args if _ints(a)]
    widest = max(numbers, default=0)
    _check_length(f"a format width of {widest:,}", widest)


def check_percent(left: Any, right: Any) -> None:
    if isinstance(left, str):
        args = right.values() if isinstance(right, Mapping) else \
            right if isinstance(right, tuple) else (right,)
        check_format(left, _PERCENT, args)


_CHECKS = {"**": check_power, "*": check_product, "+": check_sum, "%": check_percent}


def _capped_concat(pieces: Iterable[str]) -> str:
    """The rendered text, refused as soon as it passes the cap (Jinja joins the pieces here)."""
    out: list[str] = []
    total = 0
    for piece in pieces:
        total += len(piece)
        if total > MAX_LENGTH:
            raise _over("the rendered text", total, MAX_LENGTH, "characters")
        out.append(piece)
    return "".join(out)


class CappedNamespace(Namespace):
    """``namespace()``: an attribute set in a loop (``ns.s = ns.s ~ ns.s``) is capped too."""

    def __setitem__(self, name: str, value: Any) -> None:
        if isinstance(value, _SEQUENCES):
            _check_length(f"setting namespace attribute '{name}'", len(value), _unit(value))
        super().__setitem__(name, value)


def _capped_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise CostCapped(f"range of {len(r):,} numbers is over the cap of {MAX_RANGE:,} a "
                         "template may loop over")
    return r


def _capped_center(value: str, width: int = 80) -> str:
    _check_length(f"center({width:,})", width)
    return filters.do_center(value, width)


def _capped_format(value: str, *args: Any, **kwargs: Any) -> str:
    check_format(str(value), _PERCENT, [*args, *kwargs.values()])
    return filters.do_format(value, *args, **kwargs)


def _capped_indent(s: str, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    pad = len(width) if isinstance(width, str) else width
    _check_length(f"indent({pad:,}) of {str(s).count(chr(10)) + 1:,} lines",
                  (str(s).count("\n") + 1) * pad + len(str(s)))
    return filters.do_indent(s, width, first, blank)


class CappedEnvironment(SandboxedEnvironment):
    intercepted_binops = frozenset(_CHECKS)
    concat = staticmethod(_capped_concat)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals.update(range=_capped_range, namespace=CappedNamespace)
        self.filters.update(center=_capped_center, indent=_capped_indent, format=_capped_format)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _CHECKS[operator](left, right)
        return super().call_binop(context, operator, left, right)

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        # 'x'.ljust(10 ** 10): a str method whose first argument is the result's length
        owner = getattr(obj, "__self__", None)
        if type(owner) is str and args and _ints(args[0]):
            if obj.__name__ in _PADDING:
                _check_length(f"{obj.__name__}({args[0]:,})", args[0])
            elif obj.__name__ == "expandtabs":
                _check_length(f"expandtabs({args[0]:,})", len(owner) + owner.count("\t") * args[0])
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
            check_format(fmt, _FIELD, values)
            return run(*args, **kwargs)

        return update_wrapper(capped, value)
