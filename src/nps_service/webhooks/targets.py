"""Where webhooks may go (OWASP SSRF): public addresses only, unless allowed.

A URL is checked when an endpoint is saved and again before every attempt (DNS may have
changed); redirects are never followed, so a public receiver cannot bounce a delivery to
an internal address. What remains is the short window between the check and the connect
(DNS rebinding); deployments that fear it should send webhooks through an egress proxy.
"""

import ipaddress
import socket
from urllib.parse import urlsplit


class TargetRefused(ValueError):
    """The URL may not be called from here; the message says why."""


def _refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def check_target(url: str, allow_private: bool) -> None:
    """Raise TargetRefused unless every address the URL's host resolves to is public
    (or `allow_private`)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("must be an http:// or https:// URL with a host")
    if parts.username or parts.password:
        raise TargetRefused("must not carry credentials (the signature authenticates us)")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("has an invalid port") from exc
    if allow_private:
        return
    try:
        found = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefused(f"host {parts.hostname!r} does not resolve") from exc
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if _refused_address(address):
            raise TargetRefused(
                f"resolves to {address}, a private, loopback or reserved address "
                "(set NPS_WEBHOOK_ALLOW_PRIVATE=true to allow)"
            )
