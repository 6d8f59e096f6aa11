"""The one parity check of the three accelerators (runner.fast_expressions, runner.fast_schema,
runner.fast_jsonpath): a fast path must give what the library it spares gives, or hand over
with :class:`runner.unsure.Unsure`; it never answers differently."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from runner.unsure import Unsure

Outcome = tuple[str, Any]


def outcome(fn: Callable[..., Any], *args: Any,
            errors: tuple[type[BaseException], ...] = ()) -> Outcome:
    """What ``fn(*args)`` gives: ``("ok", value)``, ``("unsure", where)`` when a fast path hands
    over, or ``("error", message)`` for one of ``errors`` (any other exception propagates)."""
    try:
        return "ok", fn(*args)
    except Unsure as e:
        return "unsure", e.args
    except errors as e:
        return "error", str(e)


def same(fast: Any, reference: Any) -> bool:
    """Equal, and of the same type (1 == 1.0 == True, but an expression giving 1 must not give
    True)."""
    return bool(fast == reference) and type(fast) is type(reference)


def agrees(fast: Callable[..., Any], reference: Callable[..., Any], *args: Any,
           errors: tuple[type[BaseException], ...] = (),
           match: Callable[[Any, Any], bool] = same) -> bool:
    """Assert that ``fast(*args)`` gives what ``reference(*args)`` gives (value and type, or
    the same error message), judged by ``match(fast_value, reference_value)``, unless the fast
    path hands over; return whether it answered itself."""
    got = outcome(fast, *args, errors=errors)
    if got[0] == "unsure":
        return False
    want = outcome(reference, *args, errors=errors)
    assert want[0] != "unsure", ("the reference itself was unsure", args)
    assert got[0] == want[0] and match(got[1], want[1]), (got, want, args)
    return True
