"""The size checks behind the template cost caps (:mod:`runner.template_limits`): whether
``**``, ``*``, ``+`` and ``%`` would make an integer of more than 4,300 digits (what Python
itself refuses to print) or a string or list of more than 10,000,000 characters or items,
worked out from the operands *before* computing; the same for format widths and lengths."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from jinja2.exceptions import SecurityError

from runner.template_base import MAX_DIGITS, MAX_LENGTH

SEQUENCES = (str, list, tuple)


class CostCapped(SecurityError):
    """A template would compute more than a cap allows (a SecurityError: the sandbox refused)."""


def over(what: str, size: float, limit: int, unit: str) -> CostCapped:
    return CostCapped(f"{what} would make {size:,.0f} {unit}, over the cap of {limit:,} {unit} "
                      "that a template may compute")


def _digits(n: int) -> float:
    return abs(n).bit_length() * math.log10(2)


def ints(*values: Any) -> bool:
    return all(isinstance(v, int) and not isinstance(v, bool) for v in values)


def check_length(what: str, length: int, unit: str = "characters") -> None:
    if length > MAX_LENGTH:
        raise over(what, length, MAX_LENGTH, unit)


def unit(seq: Any) -> str:
    return "characters" if isinstance(seq, str) else "items"


def _kind(seq: Any) -> str:
    return "a string" if isinstance(seq, str) else "a list" if isinstance(seq, list) else "a tuple"


def check_power(base: Any, exp: Any) -> None:
    if ints(base, exp) and exp > 0 and abs(base) > 1:
        digits = exp * math.log10(abs(base))
        if digits > MAX_DIGITS:
            raise over(f"{base} ** {exp}", digits, MAX_DIGITS, "digits")


def check_product(left: Any, right: Any) -> None:
    if ints(left, right):
        digits = _digits(left) + _digits(right)
        if digits > MAX_DIGITS + 1:
            raise over(f"{_short(left)} * {_short(right)}", digits, MAX_DIGITS, "digits")
    for seq, times in ((left, right), (right, left)):
        if isinstance(seq, SEQUENCES) and ints(times):
            check_length(f"{_kind(seq)} of length {len(seq):,} repeated {times:,} times",
                          len(seq) * times, unit(seq))


def check_sum(left: Any, right: Any) -> None:
    if isinstance(left, SEQUENCES) and isinstance(right, SEQUENCES):
        check_length(f"{_kind(left)} of length {len(left):,} + one of {len(right):,}",
                      len(left) + len(right), unit(left))


def _short(n: int) -> str:
    return str(n) if _digits(n) < 30 else f"an integer of ~{_digits(n):,.0f} digits"


# a printf conversion ('%-10.3f', '%*d') and the spec of a str.format field ('{:>{w}}')
PERCENT = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\*|\d*)(?:\.(?:\*|\d*))?[a-zA-Z%]")
FIELD = re.compile(r"\{[^{}]*:((?:[^{}]|\{[^{}]*\})*)\}")


def check_format(fmt: str, spec: re.Pattern[str], args: Iterable[Any]) -> None:
    """A width or precision over the cap in a format, written in it or given as an argument
    (``'%*d' % (n, 1)``, ``'{:>{w}}'.format(1, w=n)``): Python would allocate it at once."""
    specs = [m.group(1) if m.groups() else m.group(0) for m in spec.finditer(fmt)]
    numbers = [int(n) for s in specs for n in re.findall(r"\d+", s)]
    if any("*" in s or "{" in s for s in specs):
        numbers += [a for a in args if ints(a)]
    widest = max(numbers, default=0)
    check_length(f"a format width of {widest:,}", widest)


def check_percent(left: Any, right: Any) -> None:
    if isinstance(left, str):
        args = right.values() if isinstance(right, Mapping) else \
            right if isinstance(right, tuple) else (right,)
        check_format(left, PERCENT, args)


CHECKS = {"**": check_power, "*": check_product, "+": check_sum, "%": check_percent}
