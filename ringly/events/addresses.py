"""Where an event endpoint may point: `https` to public addresses only, so an API key cannot make
Ringly's workers call its own network (SSRF), unless EVENTS_ALLOW_PRIVATE_URLS allows it.

The check resolves the host and refuses it when ANY address it resolves to is private, loopback,
link-local, multicast or otherwise not global (IPv4 and IPv6, IPv4 inside IPv6 included). It
runs when the endpoint is made and again before every delivery, and the delivery connects to
an address it just checked, so a name re-pointed in between (DNS rebinding) gains nothing.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (IPv4-compatible, NAT64).
_EMBEDDING_V4 = (ipaddress.ip_network("::/96"), ipaddress.ip_network("64:ff9b::/96"),
                 ipaddress.ip_network("64:ff9b:1::/48"))


class UnsafeUrl(ValueError):
    """The URL is not one Ringly may send events to; the message says why."""


class Unresolvable(UnsafeUrl):
    """The URL's host does not resolve (now): nothing to connect to, nothing to check."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (addresses, port) and what to ask for (host, path)."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if any(ip in network for network in _EMBEDDING_V4) and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public(ip: IPAddress) -> bool:
    """True for a global unicast address (and any IPv4 address inside it is one too)."""
    if ip.version == 6:
        inner = _embedded_v4(ip)  # type: ignore[arg-type]
        if inner is not None:
            # The IPv4 address is where a connection ends up (::ffff:10.0.0.1 is 10.0.0.1).
            return is_public(inner)
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def split_url(url: str, *, allow_private: bool) -> tuple[str, str, int, str]:
    """The scheme, host, port and path-with-query of an endpoint URL, or UnsafeUrl."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise UnsafeUrl(f"not a URL: {error}") from None
    schemes = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in schemes:
        raise UnsafeUrl("must be an https URL")
    if not parts.hostname:
        raise UnsafeUrl("must name a host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("must not carry a user name or password (they would be shown in lists)")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path


def resolve(url: str, *, allow_private: bool) -> Target:
    """Check `url` and resolve its host; every address must be public unless `allow_private`."""
    scheme, host, port, path = split_url(url, allow_private=allow_private)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise Unresolvable(f"its host {host!r} does not resolve ({error})") from None
    addresses: list[str] = []
    for _family, _type, _proto, _name, sockaddr in found:
        # A scoped IPv6 address ("fe80::1%eth0") names a link-local interface.
        text = str(sockaddr[0]).split("%", 1)[0]
        ip = ipaddress.ip_address(text)
        if not allow_private and not is_public(ip):
            raise UnsafeUrl(f"its host {host!r} resolves to {text}, a private, loopback, "
                            "link-local or reserved address")
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise Unresolvable(f"its host {host!r} does not resolve")
    return Target(scheme, host, port, path, tuple(addresses))
