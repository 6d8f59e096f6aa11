"""What an answer proves about a request that is not safe to repeat: applied, not applied, or
unknown.

Only an answer that proves the request was *not applied* lets runner send it again (a retry in
the same run, or ``runner resume`` later). Anything else is *unknown*: a gateway or load
balancer in front of the vendor may answer 500, 502, 503 or 504 after the vendor acted, a
timeout or a dropped connection says nothing, and 408 is a server that gave up on a request it
may have started.

Which answers prove it is the connector's to say (``not_applied:`` in ``connector.yaml``, for
the whole connector or one operation), with a conservative default:

- an HTTP status in ``statuses`` (default: every 4xx but 408): the vendor refused the request;
- a vendor error recognised in a 2xx answer (a connector ``errors:`` rule or a hook, e.g. an
  envelope with ``status: false``) counts as not applied when ``vendor_errors`` is true (the
  default): the vendor's own code answered and said no, and a gateway never writes the vendor's
  envelope. A vendor whose 2xx errors may follow a partial success sets it to false.

Settings: a list of statuses (``not_applied: [400, 404, 409, 422, 429]``) or a mapping
``{statuses: [...], vendor_errors: false}``; an operation's setting replaces the connector's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from runner.connectors.response import Response

APPLIED = "ok"  # the answer says the request took effect
NOT_APPLIED = "not-applied"  # the answer proves it did not: it may be sent again
UNKNOWN = "unknown"  # it may or may not have: never sent again blindly


@dataclass(frozen=True)
class NotApplied:
    """Which answers prove that a request was not applied."""

    statuses: frozenset[int] | None = None  # None: every 4xx but 408
    vendor_errors: bool = True

    @classmethod
    def from_conf(cls, conf: Any, base: NotApplied | None = None) -> NotApplied:
        if conf is None:
            return base or cls()
        if isinstance(conf, Mapping):
            statuses = conf.get("statuses")
            return cls(frozenset(int(s) for s in statuses) if statuses is not None else
                       (base or cls()).statuses,
                       bool(conf.get("vendor_errors", (base or cls()).vendor_errors)))
        return cls(frozenset(int(s) for s in conf), (base or cls()).vendor_errors)

    def proves(self, status: int) -> bool:
        """Does an answer with this HTTP status prove the request was not applied?"""
        if self.statuses is None:
            return 400 <= status < 500 and status != 408
        return status in self.statuses

    def outcome(self, response: Response) -> str:
        """APPLIED, NOT_APPLIED or UNKNOWN for an answer to a request not safe to repeat."""
        if response.error is None:
            return APPLIED
        if 200 <= response.status_code < 300:
            return NOT_APPLIED if self.vendor_errors else UNKNOWN
        return NOT_APPLIED if self.proves(response.status_code) else UNKNOWN


NOT_APPLIED_SCHEMA: dict[str, Any] = {
    "description": "answers that prove a request not safe to repeat was not applied (so it may "
                   "be sent again): a list of HTTP statuses, or {statuses, vendor_errors}; "
                   "default every 4xx but 408, and vendor errors in a 2xx answer",
    "oneOf": [
        {"type": "array", "items": {"type": "integer", "minimum": 100, "maximum": 599}},
        {"type": "object", "additionalProperties": False,
         "properties": {
             "statuses": {"type": "array",
                          "items": {"type": "integer", "minimum": 100, "maximum": 599}},
             "vendor_errors": {"type": "boolean"}}},
    ],
}
