"""The secrets file (``secrets_file:``): a flat YAML mapping NAME: value, or the same
encrypted with age (a name ending ``.age``), decrypted in memory with the identity (key file)
that ``age_identity:`` or ``$RUNNER_AGE_IDENTITY`` names — the variable wins, so a CI machine
can use its own key with the same environment file.

Decryption uses ``pyrage`` (the ``age`` extra) when it is installed, else the ``age`` program
(Debian's ``age`` package). Neither the file's lines nor its decrypted text are ever shown in
an error: they are secrets.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from runner.errors import InvalidInput, PlaybookError
from runner.loader import load_text

IDENTITY_VARIABLE = "RUNNER_AGE_IDENTITY"


def read_secrets_file(path: Path, identity: Path | None = None) -> dict[str, Any] | None:
    """The file's mapping; None when there is no such file (it is optional)."""
    if not path.exists():
        return None
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InvalidInput(f"cannot read the secrets file {path}: {e.strerror}",
                           hint="check its permissions") from None
    if path.suffix == ".age":
        raw = decrypt(path, raw, identity_path(identity))
    try:
        doc = load_text(raw.decode("utf-8"), str(path))
    except UnicodeDecodeError:
        raise InvalidInput(f"the secrets file {path} is not UTF-8 text",
                           hint="save it as UTF-8") from None
    except PlaybookError as e:
        e.show_source = False  # its lines are secrets
        raise
    if doc.data is None:
        return {}
    if not isinstance(doc.data, dict):
        raise PlaybookError("the secrets file must be a mapping of NAME: value",
                            location=doc.loc(()), show_source=False,
                            hint="write one NAME: value per line")
    return doc.data


def identity_path(given: Path | None) -> Path | None:
    from_env = os.environ.get(IDENTITY_VARIABLE)
    return Path(os.path.expanduser(from_env)) if from_env else given


def decrypt(path: Path, data: bytes, identity: Path | None) -> bytes:
    if identity is None:
        raise InvalidInput(f"the secrets file {path} is age-encrypted and no identity is given",
                           hint=f"write age_identity: PATH in the environment file or export "
                           f"{IDENTITY_VARIABLE}=PATH (a key file made by age-keygen)")
    if not identity.is_file():
        raise InvalidInput(f"the age identity {identity} (for {path}) does not exist",
                           hint=f"check age_identity: or ${IDENTITY_VARIABLE}")
    try:
        import pyrage
    except ImportError:
        return _decrypt_with_cli(path, identity)
    return _decrypt_with_pyrage(pyrage, path, data, identity)


def _decrypt_with_pyrage(pyrage: Any, path: Path, data: bytes, identity: Path) -> bytes:
    key = identity.read_bytes()
    try:
        if b"OPENSSH PRIVATE KEY" in key or b"RSA PRIVATE KEY" in key:
            identities = [pyrage.ssh.Identity.from_buffer(key)]
        else:
            identities = [pyrage.x25519.Identity.from_str(line.strip())
                          for line in key.decode("ascii", "replace").splitlines()
                          if line.strip().startswith("AGE-SECRET-KEY-")]
    except Exception as e:  # pyrage's IdentityError: the key file is not one
        raise InvalidInput(f"the age identity {identity} cannot be read: {type(e).__name__}",
                           hint="give a key file made by age-keygen, or an ssh private key"
                           ) from None
    if not identities:
        raise InvalidInput(f"the age identity {identity} holds no AGE-SECRET-KEY- line",
                           hint="give a key file made by age-keygen, or an ssh private key")
    try:
        return bytes(pyrage.decrypt(data, identities))
    except Exception as e:  # pyrage.DecryptError: another recipient, or not age at all
        raise _cannot(path, identity, f"{type(e).__name__}: {e}") from None


def _decrypt_with_cli(path: Path, identity: Path) -> bytes:
    program = shutil.which("age")
    if program is None:
        raise InvalidInput(f"the secrets file {path} is age-encrypted and neither pyrage nor "
                           "the age program is installed",
                           hint="pip install 'runner[age]', or apt-get install age")
    proc = subprocess.run([program, "--decrypt", "-i", str(identity), str(path)],
                          capture_output=True, stdin=subprocess.DEVNULL, timeout=60,
                          check=False)
    if proc.returncode != 0:
        raise _cannot(path, identity, proc.stderr.decode("utf-8", "replace").strip()[-300:])
    return proc.stdout


def _cannot(path: Path, identity: Path, why: str) -> InvalidInput:
    return InvalidInput(f"cannot decrypt the secrets file {path} with {identity}: {why}",
                        hint=f"encrypt it to this identity's recipient: age -r $(age-keygen -y "
                        f"{identity}) -o {path.name} {path.stem}")
