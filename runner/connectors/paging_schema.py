"""What ``paginate:`` may say (in connector.yaml, or on a raw call with ``all: true``): its
schema and defaults, apart from the paging itself (:mod:`runner.connectors.paging`), so a
connector file's schema and a call step's keys (runner.connectors.spec,
runner.steps.paging_keys) need no paging code: a run or a validate that pages nothing loads
none (~20 KB of source, compiled at every start where no ``.pyc`` is written; issue 14).
"""

from __future__ import annotations

from typing import Any

STYLES = ("offset", "page", "cursor", "link")
MAX_PAGES = 100  # the page cap unless the connector or the step says otherwise

_names = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_.-]*$"}
PAGINATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["style"],
    "description": "how the operation pages its list: a call with all: true reads every page",
    "properties": {
        "style": {"enum": list(STYLES), "description": "offset (offset/limit), page (page "
                  "number), cursor (the next cursor from the body), link (Link: rel=next)"},
        "items": {"type": "string", "description": "JSONPath to the page's items (default $)"},
        "offset": {**_names, "description": "offset: the parameter holding the offset"},
        "limit": {**_names, "description": "offset, page: the parameter holding the page size"},
        "page": {**_names, "description": "page: the parameter holding the page number"},
        "start": {"type": "integer", "minimum": 0, "description": "page: the first page's "
                  "number (default 1)"},
        "cursor": {**_names, "description": "cursor: the parameter the cursor goes back in"},
        "next": {"type": "string", "description": "cursor: JSONPath to the next cursor; "
                 "link: JSONPath to the next page's URL in the body instead of the Link header"},
        "page_size": {"type": "integer", "minimum": 1,
                      "description": "the limit sent when a call gives none"},
        "max_page_size": {"type": "integer", "minimum": 1,
                          "description": "the vendor's largest page: a larger limit asked is "
                          "sent as this (a vendor that serves fewer than asked would seem to "
                          "end its list)"},
        "max_pages": {"type": "integer", "minimum": 1,
                      "description": f"pages a call reads at most (default {MAX_PAGES}): more "
                      "fails the step"},
    },
}
