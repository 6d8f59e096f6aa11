"""``runner.api.sandbox``: serve the connectors' simulators on loopback until stopped."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runner.connectors import registry
from runner.errors import InvalidInput
from runner.sandbox import Sandbox
from runner.sandbox_files import Served, served, write_dotenv, write_env
from runner.sandbox_given import gather
from runner.sandbox_options import simulator_class


@dataclass(frozen=True)
class SandboxReady:
    """What a started sandbox is: its simulators and the files it wrote for others."""

    simulators: list[Served]
    env_file: Path | None = None
    secrets_file: Path | None = None
    dotenv_file: Path | None = None


def sandbox(names: Sequence[str] = (), *, options_file: str | None = None,
            sets: Sequence[str] = (), write_env_file: str | None = None,
            write_dotenv_file: str | None = None,
            on_ready: Callable[[SandboxReady], None] | None = None,
            stop: threading.Event | None = None) -> None:
    """Start the simulators of ``names`` (default: every connector that has one) with the
    options of ``options_file`` and ``sets`` (``vendor.option=value``), write the files asked
    for, call ``on_ready``, and serve until ``stop`` is set, Ctrl-C or SIGTERM (both a normal
    end here: nothing is left half-done)."""
    chosen = list(dict.fromkeys(names)) or [s.name for s in registry.all_specs() if s.simulator]
    classes: dict[str, type] = {}
    for name in chosen:
        factory = registry.get(name).simulator
        if factory is not None:
            classes[name] = simulator_class(factory)
    options: dict[str, dict[str, Any]] = gather(options_file, sets, classes)
    box = Sandbox(options)
    stop = stop or threading.Event()
    before = _stop_on_sigterm(stop)  # before "ready": a caller may stop it as soon as it reads it
    try:
        box.start(chosen)
        sims = served(box)
        ready = SandboxReady(sims, *_write(sims, write_env_file, write_dotenv_file))
        if on_ready is not None:
            on_ready(ready)
        try:
            while not stop.wait(0.5):  # a timeout, so that Ctrl-C gets through promptly
                pass
        except KeyboardInterrupt:
            pass
    finally:
        box.stop()
        if before is not None:
            signal.signal(signal.SIGTERM, before)


def _write(sims: list[Served], env_file: str | None, dotenv_file: str | None
           ) -> tuple[Path | None, Path | None, Path | None]:
    env = secrets = dotenv = None
    try:
        if env_file:
            env = Path(env_file)
            secrets = write_env(env, sims)
        if dotenv_file:
            dotenv = Path(dotenv_file)
            write_dotenv(dotenv, sims)
    except OSError as e:
        raise InvalidInput(f"cannot write {e.filename or env_file or dotenv_file}: "
                           f"{e.strerror or e}", hint="give a path in a folder you can write "
                           "to") from None
    return env, secrets, dotenv


def _stop_on_sigterm(stop: threading.Event) -> Any:
    """SIGTERM (a test's teardown, systemd, a CI job's end) stops the sandbox as Ctrl-C does,
    with the simulators' ports closed, and exit 0: stopping is how a sandbox ends. The handler
    it replaces, to put back; None off the main thread (where Python runs no handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda *_: stop.set())
