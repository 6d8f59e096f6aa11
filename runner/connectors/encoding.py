"""What a request looks like on the wire: the default headers, the refusal of a header value
HTTP cannot carry (before anything is sent), and query and form data encoded as requests
encodes them (a list repeats its key)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from runner import __version__
from runner.errors import Unsendable

# Accept-Encoding is the transport's: what it can decode depends on what is installed
DEFAULT_HEADERS = {
    "User-Agent": f"runner/{__version__}",
    "Accept": "*/*",
    "Connection": "keep-alive",
}


_UNSENDABLE = re.compile("[\r\n\0]|[^\x00-\xff]")


def with_defaults(given: dict[str, str]) -> dict[str, str]:
    lower = {k.lower() for k in given}
    out = {k: v for k, v in DEFAULT_HEADERS.items() if k.lower() not in lower}
    out.update(given)
    return out


def check_headers(target: str, headers: dict[str, str]) -> None:
    """Refuse, before anything is sent, a header http.client cannot write: a character
    outside Latin-1 (it would raise deep in the transport), or a line break (it would split
    the header). No silent re-encoding: RFC 9110 wants ASCII field values, and how a vendor
    reads anything else (RFC 8187's UTF-8'', percent-encoding, base64) is the vendor's call."""
    for name, value in headers.items():
        if not isinstance(value, str):
            continue
        bad = _UNSENDABLE.search(value)  # one scan in C: this runs for every header of every call
        if bad is None:
            continue
        i, ch = bad.start(), bad.group()
        if ch in "\r\n\0":
            raise Unsendable(
                f"{target}: header '{name}' has a line break or NUL at position "
                f"{i + 1}, which would split the header, so it is not sent",
                hint="remove line breaks from the value (e.g. {{ value | trim }})")
        raise Unsendable(
            f"{target}: header '{name}' has a character HTTP headers cannot "
            f"carry (U+{ord(ch):04X} at position {i + 1}: header values are Latin-1 "
            "bytes, and RFC 9110 asks for ASCII), so it is not sent",
            hint="send the text in the body, or encode it as the vendor expects, "
            "e.g. {{ value | urlencode }}")


def set_default(headers: dict[str, str], name: str, value: str) -> None:
    low = name.lower()
    if not any(k.lower() == low for k in headers):
        headers[name] = value


def encode_pairs(data: Any) -> str:
    """``key=value&...`` as requests encodes params and form data: None dropped, a list or
    tuple repeats the key."""
    pairs: list[tuple[Any, Any]] = []
    for k, vs in data.items():
        if isinstance(vs, (str, bytes)) or not hasattr(vs, "__iter__"):
            vs = [vs]
        for v in vs:
            if v is not None:
                pairs.append((k.encode("utf-8") if isinstance(k, str) else k,
                              v.encode("utf-8") if isinstance(v, str) else v))
    return urlencode(pairs, doseq=True)


def query_value(v: Any) -> Any:
    """A query parameter's value as it goes on the wire: a boolean as ``true``/``false``, a
    list or tuple as its items (``encode_pairs`` repeats the key: ``?tag=a&tag=b``, as requests
    sends it), a mapping as compact JSON text (no convention for it is common enough)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return [query_value(x) if isinstance(x, bool) else x if isinstance(x, (str, int, float))
                or x is None else json.dumps(x, separators=(",", ":")) for x in v]
    if isinstance(v, dict):
        return json.dumps(v, separators=(",", ":"))
    return v
