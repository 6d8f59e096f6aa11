"""TLS settings as requests reads ``verify=`` and ``cert=``: certifi's bundle (or
``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE``), a connector's own CA bundle (``ca_bundle``, or a
path in ``verify_tls``), a bundle file or a directory, or no verification at all; and a client
certificate for mutual TLS (``client_cert``, with its key in the same PEM file or in
``client_key``)."""

from __future__ import annotations

import os
from typing import Any

CERTIFI = "<certifi's bundle>"  # in tls_settings' answer: certifi.where(), once a pool is made


def pool_args(tls: dict[str, Any]) -> dict[str, Any]:
    """``tls_settings``' answer as urllib3's pool managers take it: certifi's bundle found."""
    if tls.get("ca_certs") is not CERTIFI:
        return tls
    found = _certifi_bundle()
    return {**tls, "ca_certs": found} if found else \
        {k: v for k, v in tls.items() if k != "ca_certs"}  # no certifi: the system's store


def tls_settings(verify: bool | str, *, ca_bundle: str | None = None,
                 client_cert: str | None = None,
                 client_key: str | None = None) -> tuple[dict[str, Any], str | None]:
    """urllib3 TLS arguments for these settings (as requests reads them), and an error, if
    any (a file that does not exist: said before anything is sent)."""
    out, error = _verify(verify, ca_bundle)
    if client_cert:
        out["cert_file"] = str(client_cert)
        if client_key:
            out["key_file"] = str(client_key)
        for name, path in (("client_cert", client_cert), ("client_key", client_key)):
            if path and not os.path.isfile(str(path)):
                error = error or f"the {name} file {str(path)!r} does not exist"
    elif client_key:
        error = error or "client_key is set without client_cert"
    return out, error


def _verify(verify: bool | str, ca_bundle: str | None) -> tuple[dict[str, Any], str | None]:
    if verify is False or (isinstance(verify, str) and verify.lower() in ("false", "no")):
        return {"cert_reqs": "CERT_NONE"}, None
    if verify is True or (isinstance(verify, str) and verify.lower() in ("true", "yes", "")):
        # as requests: the connector's bundle, else one the environment names, else certifi's
        named = ca_bundle or os.environ.get("REQUESTS_CA_BUNDLE") \
            or os.environ.get("CURL_CA_BUNDLE")
        if named:
            verify = named
        else:  # certifi's, looked up when a pool is made (pool_args): importing
            # certifi (importlib.resources, tempfile, zipfile) is ~4 ms of a run that sends
            # only http:// calls, which never need it
            return {"cert_reqs": "CERT_REQUIRED", "ca_certs": CERTIFI}, None
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
