"""The step kinds, in one table: ``KINDS``. A step's kind is the first whose key it has.

| key          | module     | what it does                                                      |
|--------------|------------|-------------------------------------------------------------------|
| `poll-until` | poll.py    | repeat a call until an expression holds (every, backoff, timeout) |
| `call`       | call.py    | one connector operation, or a raw method/path on a connector     |
| `include`    | include.py | run another playbook with inputs; its outputs become a variable   |
| `auth`       | auth.py    | authenticate a connector now (otherwise it happens on first call) |
| `extract`    | extract.py | extract values from the last answer (or `from` a step)            |
| `assert`     | check.py   | expressions that must hold, each with a message                   |
| `sleep`      | sleep.py   | wait before the next step (stopped at once by Ctrl-C or SIGTERM)  |
| `callback`   | callback.py | mint a callback URL for this run (`steps.<id>.url`)              |
| `wait-for`   | wait_for.py | wait for the POST to a callback URL; else poll (`otherwise:`)    |
| `approve`    | approve.py | wait until `runner approve RUN_ID` (or reject; a deadline rejects) |

`call` and `poll-until` steps may also carry `extract` and `assert`; they apply to the answer.
Each module satisfies :class:`runner.steps.kind.StepKind`; the loader, the schema, the engine
and ``runner plan`` read this table, so a new kind is its module and its line here.
"""

from __future__ import annotations

from runner.steps import (
    approve,
    auth,
    call,
    callback,
    check,
    extract,
    include,
    poll,
    sleep,
    wait_for,
)
from runner.steps.kind import StepKind

# order matters: it is the order kinds are named in messages (a step with both `poll-until`
# and `call` is a poll by YIELDS_TO, not by order)
KINDS: dict[str, StepKind] = {
    "poll": poll, "call": call, "include": include, "auth": auth, "extract": extract,
    "assert": check, "sleep": sleep, "callback": callback, "wait-for": wait_for,
    "approve": approve,
}
