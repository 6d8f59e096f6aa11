"""Whether an error answer is the vendor's at all: a web server's or a proxy's HTML page (a
404 because the base URL lacks ``/api``) is not, and saying "HTTP 404 from URL — check
base_url" helps where the vendor's reader would say "unusable XML answer: Start tag expected".
Only error statuses are judged (a success is read as the vendor's, whatever it looks like); a
connector whose hooks unwrap HTML (MOR) has already unwrapped it when this runs."""

from __future__ import annotations

from runner.connectors.response import Response
from runner.errors import TransportError

HTML_TYPES = ("text/html", "application/xhtml+xml")
HTML_HEADS = (b"<!doctype html", b"<html")


def not_the_vendors(response: Response, decode: str) -> str | None:
    """``URL: what it is``, the URL without its query, when an error answer is a page that is
    not the vendor's; None when it may be the vendor's."""
    what = _foreign(response, decode)
    if what is None:
        return None
    url = response.url.split("?", 1)[0].split("#", 1)[0] or "the service"
    return f"{url}: {what}, not the vendor's answer"


def _foreign(response: Response, decode: str) -> str | None:
    head = response.content[:256].lstrip().lower()
    if head.startswith(HTML_HEADS):
        return "an HTML page"
    if response.content_type not in HTML_TYPES:
        return None  # a plain-text or JSON error is the vendor's words: shown as they are
    if not head:
        return "an empty HTML answer"
    if decode == "json" and response.json is not None:
        return None
    if decode == "xml":  # the vendor's XML, sent as text/html (or unwrapped by its hooks)
        try:
            root = response.xml
        except TransportError:
            return "an HTML page"
        if root is not None and isinstance(root.tag, str) and root.tag.lower() != "html":
            return None
    return "an HTML page"
