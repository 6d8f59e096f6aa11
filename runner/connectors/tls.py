"""TLS settings as requests reads ``verify``: certifi's bundle (or ``REQUESTS_CA_BUNDLE`` /
``CURL_CA_BUNDLE``), a bundle file or a directory, or no verification at all."""

from __future__ import annotations

import os
from typing import Any


def tls_settings(verify: bool | str) -> tuple[dict[str, Any], str | None]:
    """urllib3 TLS arguments for ``verify`` (as requests read it), and an error, if any."""
    if verify is False or (isinstance(verify, str) and verify.lower() in ("false", "no")):
        return {"cert_reqs": "CERT_NONE"}, None
    if verify is True or (isinstance(verify, str) and verify.lower() in ("true", "yes", "")):
        # as requests: a bundle named by the environment, else certifi's
        verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") \
            or _certifi_bundle()
    path = str(verify)
    if os.path.isdir(path):
        return {"cert_reqs": "CERT_REQUIRED", "ca_cert_dir": path}, None
    if not os.path.exists(path):
        return {"cert_reqs": "CERT_REQUIRED"}, f"the CA bundle {path!r} does not exist"
    return {"cert_reqs": "CERT_REQUIRED", "ca_certs": path}, None


def _certifi_bundle() -> str:
    try:
        import certifi

        return str(certifi.where())
    except ImportError:  # pragma: no cover - certifi comes with requests
        return ""
