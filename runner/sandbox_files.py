"""What ``runner sandbox`` tells other processes: each simulator's URL and made-up credentials,
as an environment file (``--write-env``) with a secrets file beside it, and as a dotenv file
(``--write-dotenv``) for shells and curl.

The environment file is a plain runner environment (not ``sandbox: true``): each connector's
block points at the running simulator, its secret settings written as ``{secret: NAME}`` and
their values in ``<stem>.secrets.yaml`` beside it (``secrets_file:``), mode 0600, so ``runner
run p.yaml --env FILE`` in another process talks to this sandbox as it would to the vendor.
The secrets' names are ``RUNNER_SANDBOX_<VENDOR>_<SETTING>``: a variable of that name set in
the shell wins over the secrets file (the environment's rule), so they are the sandbox's own:
a production name (``AUTOMATOS_KEY``) exported in the same shell must not be sent to the
sandbox, and the dotenv file's names (``SANDBOX_<VENDOR>_<SETTING>``, sourced in a shell for
an earlier session) must not shadow this session's values.
Each file is written whole to a temporary name, then renamed: a reader never sees half of one.
They are kept when the sandbox stops, and overwritten the next time.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from runner.connectors import registry
from runner.sandbox import Sandbox

SECRET_PREFIX = "RUNNER_SANDBOX"  # the environment file's secrets (see above)
_SAFE = re.compile(r"^[A-Za-z0-9_+/=.,:@%-]*$")  # a dotenv value that needs no quotes


@dataclass(frozen=True)
class Served:
    """One running simulator, as a person or another process reaches it."""

    name: str  # the connector's name (use:)
    url: str
    settings: dict[str, Any]  # what the connector is given (base_url, credentials)
    secret: dict[str, str] = field(default_factory=dict)  # secret setting -> its {secret:} NAME
    example: str = ""  # a curl command line, with the credentials

    def variable(self, setting: str) -> str:
        return variable(self.name, setting)


def variable(vendor: str, setting: str, prefix: str = "SANDBOX") -> str:
    """``SANDBOX_<VENDOR>_<SETTING>``, the vendor's name not repeated (automatos_key ->
    SANDBOX_AUTOMATOS_KEY)."""
    v, word = (re.sub(r"\W", "_", t).upper() for t in (vendor, setting))
    if word.startswith(v + "_"):
        word = word[len(v) + 1:]
    return f"{prefix}_{v}_{word}"


def served(box: Sandbox) -> list[Served]:
    """The started simulators of ``box``; a setting is secret when its connector says so or
    the simulator counts its value among its credentials."""
    out = []
    for name, sim in box.simulators.items():
        settings = box.settings(name)
        spec = registry.get(name)
        creds = set(sim.secret_values())
        secret = [k for k, v in settings.items()
                  if (k in spec.settings and spec.settings[k].secret) or v in creds]
        names = {k: variable(name, k, SECRET_PREFIX) for k in secret}
        out.append(Served(name, sim.url, settings, names, sim.example_request()))
    return out


def secrets_path(env_file: Path) -> Path:
    """The secrets file of an environment file: ``<stem>.secrets.yaml`` beside it."""
    return env_file.with_name(env_file.stem + ".secrets.yaml")


def write_env(env_file: Path, sims: list[Served]) -> Path:
    """Write the environment file and its secrets file; the secrets file's path."""
    secrets_file = secrets_path(env_file)
    connectors: dict[str, dict[str, Any]] = {}
    values: dict[str, str] = {}
    for s in sims:
        block: dict[str, Any] = {}
        for key, value in s.settings.items():
            if key in s.secret:
                block[key] = {"secret": s.secret[key]}
                values[s.secret[key]] = str(value)
            else:
                block[key] = value
        connectors[s.name] = block
    head = (f"# Written by `runner sandbox` (pid {os.getpid()}): its simulators, while it runs.\n"
            "# Overwritten by the next `runner sandbox --write-env` to this file; the "
            "credentials are\n# made up for that session, in the secrets file beside this "
            "one.\n")
    doc = {"description": f"runner sandbox on loopback (pid {os.getpid()})",
           "secrets_file": secrets_file.name, "connectors": connectors}
    _write(secrets_file, "# made-up credentials of a `runner sandbox` session\n"
           + yaml.safe_dump(values, sort_keys=False), private=True)
    _write(env_file, head + yaml.safe_dump(doc, sort_keys=False), private=False)
    return secrets_file


def write_dotenv(path: Path, sims: list[Served]) -> None:
    """NAME=value lines (``SANDBOX_<VENDOR>_<SETTING>``, the URL as ``..._BASE_URL``) for
    ``source FILE`` in a shell or ``--env-file`` of a container; mode 0600."""
    lines = [f"# `runner sandbox` (pid {os.getpid()}): made-up credentials of its simulators"]
    for s in sims:
        for key, value in s.settings.items():
            text = str(value)
            lines.append(f"{s.variable(key)}={text if _SAFE.match(text) else _quoted(text)}")
    _write(path, "\n".join(lines) + "\n", private=True)


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _write(path: Path, text: str, *, private: bool) -> None:
    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        if not private:
            os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
