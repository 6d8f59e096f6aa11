"""Plain words for what went wrong on the wire: a urllib3 error as a TransportError (was the
request sent, can a retry help), worded by its innermost cause (urllib3 wraps socket, TLS and
zlib errors a few levels deep) and the host it concerns."""

from __future__ import annotations

from urllib.parse import urlsplit

from runner.errors import TransportError


def transport_error(url: str, e: Exception, read: float, read_timeout: float,
                    proxy: str | None = None) -> TransportError:
    """``e``, an error urllib3 raised sending to ``url``, as a TransportError: whether the
    request may have been sent, and whether trying again can help. ``read``: the read timeout
    this try had (less than ``read_timeout`` when a deadline shortened it); ``proxy``: the
    proxy the request went through, if any (a failure to reach it names it, not the server)."""
    import urllib3.exceptions as x  # imported by now: it raised `e` (or wire.py made it)

    where = host(url)
    cause: Exception = e
    if isinstance(e, x.ProxyError) and isinstance(e.original_error, Exception):
        cause = e.original_error
    if proxy and (isinstance(e, x.ProxyError)
                  or isinstance(cause, (x.NewConnectionError, x.ConnectTimeoutError))):
        return TransportError(f"cannot connect to the proxy {host(proxy)} (for {where}): "
                              f"{reason(cause)}", sent=False,
                              hint="check HTTP_PROXY / HTTPS_PROXY, or NO_PROXY for hosts "
                              "that are reached directly")
    if isinstance(cause, x.NewConnectionError):
        return TransportError(f"cannot connect ({where}): {reason(cause)}", sent=False)
    if isinstance(cause, x.ConnectTimeoutError):
        return TransportError(f"timed out connecting to {where}", sent=False,
                              hint="check the base URL and that the service is up")
    if isinstance(cause, x.ReadTimeoutError):
        if read < read_timeout:
            return TransportError(f"no answer from {where} within {read:.3g} s, the time "
                                  "left before the step's timeout", sent=True)
        return TransportError(
            f"no answer from {where} within {read_timeout:g} s", sent=True,
            hint="the request may have been processed; if the service is that slow, raise "
            "the connector's read_timeout setting (timeouts.read in its connector file)")
    if isinstance(cause, x.SSLError):  # a certificate that does not verify will not next time
        return TransportError(f"TLS error talking to {where}: {reason(cause)}", sent=False,
                              final=unverified(cause))
    if isinstance(e, x.ProxyError):
        return TransportError(f"cannot connect ({where}): {reason(cause)}", sent=False)
    if isinstance(e, x.ProxySchemeUnknown):
        return TransportError(f"the proxy for {where} is not usable: {e}", sent=False,
                              final=True,
                              hint="check HTTP_PROXY / HTTPS_PROXY in the environment")
    if isinstance(e, x.LocationValueError):
        return TransportError(f"invalid URL {url!r}: {e}", sent=False, final=True)
    if isinstance(e, x.ProtocolError):
        return TransportError(f"the connection was dropped ({where}): {reason(e)}",
                              sent=True)
    return TransportError(f"the answer from {where} was broken: {reason(e)}", sent=True)


def causes(e: BaseException) -> list[BaseException]:
    """``e`` and the errors wrapped in it, outermost first: urllib3 wraps socket, TLS and zlib
    errors in its own, in ``args`` or ``reason``, a few levels deep."""
    chain = [e]
    for _ in range(5):
        nested = [a for a in e.args if isinstance(a, BaseException)]
        wrapped = getattr(e, "reason", None)
        if isinstance(wrapped, BaseException):
            nested.append(wrapped)
        if not nested:
            break
        e = nested[-1]
        chain.append(e)
    return chain


def unverified(e: BaseException) -> bool:
    """Whether a TLS error is the certificate's (unknown issuer, expired, another host's), not a
    handshake cut short by the network."""
    import ssl

    chain = causes(e)
    if any(isinstance(c, (ssl.SSLCertVerificationError, ssl.CertificateError)) for c in chain):
        return True
    return "CERTIFICATE_VERIFY_FAILED" in str(chain[-1])  # urllib3 may pass on only the text


def host(url: str) -> str:
    return urlsplit(url).netloc or url


def reason(e: BaseException) -> str:
    inner = causes(e)[-1]  # the innermost cause says what happened
    text = str(inner)
    return text.split(": ")[-1][:200] if text else type(inner).__name__
