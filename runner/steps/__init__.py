"""The step kinds, in one table. A step's kind is the first of these keys it has.

| key          | module     | what it does                                                      |
|--------------|------------|-------------------------------------------------------------------|
| `poll-until` | poll.py    | repeat a call until an expression holds (every, backoff, timeout) |
| `call`       | call.py    | one connector operation, or a raw method/path on a connector     |
| `include`    | include.py | run another playbook with inputs; its outputs become a variable   |
| `auth`       | auth.py    | authenticate a connector now (otherwise it happens on first call) |
| `extract`    | extract.py | extract values from the last answer (or `from` a step)            |
| `assert`     | check.py   | expressions that must hold, each with a message                   |

`call` and `poll-until` steps may also carry `extract` and `assert`; they apply to the answer.
"""

from __future__ import annotations

# order matters: a step with both `poll-until` and `call` is a poll
STEP_KEYS: tuple[str, ...] = ("poll-until", "call", "include", "auth", "extract", "assert")
KIND_OF_KEY = {"poll-until": "poll", "call": "call", "include": "include", "auth": "auth",
               "extract": "extract", "assert": "assert"}
