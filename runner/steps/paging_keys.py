"""The paging keys of a call step (``all``, ``max-items``, ``max-pages``, ``paginate``): their
schema, apart from the paging itself (:mod:`runner.steps.paging`), which a call step imports
only when it has one of these keys or reads pages: a run or a validate of calls that do not
page loads no paging code (~20 KB of source, compiled at every start where no ``.pyc`` is
written; issue 14).
"""

from __future__ import annotations

from typing import Any

from runner.connectors.paging_schema import PAGINATE_SCHEMA

_COUNT = {"type": "integer", "minimum": 1}
PAGING_SCHEMA: dict[str, Any] = {
    "all": {"type": "boolean", "description": "read every page of an operation that pages "
            "(paginate: in its connector); the answer's JSON is the items of all pages"},
    "max-items": {**_COUNT, "description": "all: stop once this many items are read"},
    "max-pages": {**_COUNT, "description": "all: read at most this many pages; a list longer "
                  "than that fails the step (default: the connector's max_pages, else 100)"},
    "paginate": {**PAGINATE_SCHEMA, "description": "a raw call with all: true: how its "
                 "endpoint pages (an operation's is in its connector file)"},
}
