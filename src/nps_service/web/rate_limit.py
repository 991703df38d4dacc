"""Rate limits per API key and per client address on every `/v1` route (`NPS_RATE_LIMITS`).

`limits`' fixed window: one counter per identity and limit (a window opens at the first
request), one dict update in memory or one Redis round trip (`NPS_REDIS_URL`, shared by
every worker); a moving window would store every request. A client may send up to twice a
limit across a window's end, which the generous defaults tolerate. A key counts by a
SHA-256 prefix of the token, valid or not; every request counts against its address (the
peer, or the X-Forwarded-For client behind trusted proxies; IPv6 by /64). Over: 429 with
Retry-After. Redis unreachable: requests pass, a log line a minute, a retry after 1 s.
"""

import hashlib
import heapq
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.storage import RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nps_service.config import Settings
from nps_service.logs import SparseLog
from nps_service.web.problems import problem_response

logger = logging.getLogger("nps_service.rate_limit")
KINDS = ("key", "address")
REDIS_PREFIX = "nps-rate"
REDIS_TIMEOUT_SECONDS = 0.25  # slower counts as down; then requests pass for a second
REDIS_PAUSE_SECONDS = 1.0


def parse_rate_limits(spec: str) -> dict[str, list[RateLimitItem]]:
    """`"key: 100/second, 100000/minute; address: 20000/minute"` -> limits per kind."""
    parsed: dict[str, list[RateLimitItem]] = {}
    for part in spec.split(";"):
        if not part.strip():
            continue
        kind, colon, notation = part.partition(":")
        kind = kind.strip()
        if not colon or kind not in KINDS or kind in parsed:
            expected = "'key: <limits>' or 'address: <limits>', each once, ';' between"
            raise ValueError(f"NPS_RATE_LIMITS: {part.strip()!r} is not {expected}")
        try:
            parsed[kind] = parse_many(notation)
        except ValueError as exc:
            raise ValueError(f"NPS_RATE_LIMITS: {kind}: {exc}") from exc
    return parsed


class ProcessMemory(Storage):
    """Fixed-window counters in this process, for `limits`' strategies. Its MemoryStorage
    scans every counter per request (or every 10 ms): milliseconds with tens of thousands
    of addresses. Here windows expire through a heap, O(log n), in a bounded table."""

    STORAGE_SCHEME = None

    def __init__(self, max_keys: int = 100_000) -> None:
        super().__init__()
        self.max_keys = max_keys
        self._windows: dict[str, list[float]] = {}  # key -> [count, expires at]
        self._expiries: list[tuple[float, str]] = []

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    async def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        expiries = self._expiries
        while expiries and expiries[0][0] <= now:
            expires, old = heapq.heappop(expiries)
            window = self._windows.get(old)
            if window is not None and window[1] == expires:
                del self._windows[old]
        window = self._windows.get(key)
        if window is None:
            if len(self._windows) >= self.max_keys:  # a flood of identities: start over
                self._windows.clear()
                expiries.clear()
            window = self._windows[key] = [0, now + expiry]
            heapq.heappush(expiries, (window[1], key))
        window[0] += amount
        return int(window[0])

    async def get(self, key: str) -> int:
        count, expires = self._windows.get(key, (0, 0.0))
        return int(count) if expires > time.time() else 0

    async def get_expiry(self, key: str) -> float:
        return self._windows.get(key, (0, time.time()))[1]

    async def check(self) -> bool:
        return True

    async def reset(self) -> int | None:
        count, self._windows, self._expiries = len(self._windows), {}, []
        return count

    async def clear(self, key: str) -> None:
        self._windows.pop(key, None)


def redis_storage(url: str, prefix: str = REDIS_PREFIX) -> RedisStorage:
    """`limits`' asyncio Redis storage (redis-py), quick to give up: no retries, 250 ms."""
    scheme, _, rest = url.partition("://")
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"NPS_REDIS_URL: expected redis://, rediss:// or unix://, got {scheme}")
    uri = f"async+{'redis+unix' if scheme == 'unix' else scheme}://{rest}"
    timeout = REDIS_TIMEOUT_SECONDS
    # redis-py retries three times with up to 7 s of backoff by default: not here.
    options: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    options["retry"] = Retry(NoBackoff(), 0)
    return RedisStorage(
        uri, implementation="redispy", key_prefix=prefix, wrap_exceptions=True, **options
    )


@dataclass(frozen=True)
class Refusal:
    kind: str
    limit: RateLimitItem
    retry_after: int


class RateLimiter:
    """Counts a request against each limit of each of its identities."""

    def __init__(self, limits: dict[str, list[RateLimitItem]], storage: Storage, metrics: Any):
        self.limits = limits
        self.storage = storage
        self.strategy = FixedWindowRateLimiter(storage)
        self.metrics = metrics
        self._paused_until = 0.0
        self._sparse = SparseLog(logger, 60.0)

    async def check(self, identities: list[tuple[str, str]]) -> Refusal | None:
        """None to let the request through, else which limit it is over."""
        if self._paused_until and time.monotonic() < self._paused_until:
            return None
        try:
            for kind, identity in identities:
                for limit in self.limits.get(kind, ()):
                    if not await self.strategy.hit(limit, kind, identity):
                        stats = await self.strategy.get_window_stats(limit, kind, identity)
                        retry = max(1, math.ceil(stats.reset_time - time.time()))
                        if self.metrics is not None:
                            self.metrics.shed.labels(f"rate_limit_{kind}").inc()
                        return Refusal(kind, limit, retry)
        except (StorageError, OSError, TimeoutError) as exc:
            self._paused_until = time.monotonic() + REDIS_PAUSE_SECONDS
            message = f"rate limits are not enforced: their store failed: {type(exc).__name__}"
            self._sparse.warning("storage", f"{message}: {exc}"[:300])
            return None
        self._paused_until = 0.0
        return None

    async def close(self) -> None:
        bridge = getattr(self.storage, "bridge", None)
        if bridge is not None:
            await bridge.get_connection().aclose()


class TrustedProxies:
    """Addresses and networks whose X-Forwarded-For is believed."""

    def __init__(self, entries: list[str]) -> None:
        self.networks = [ipaddress.ip_network(entry, strict=False) for entry in entries]
        self.contains = lru_cache(maxsize=4096)(self._contains)

    def _contains(self, host: str) -> bool:
        try:
            return any(ipaddress.ip_address(host) in net for net in self.networks)
        except ValueError:
            return False


def client_address(scope: Scope, trusted: TrustedProxies) -> str:
    """The peer, or when it is a trusted proxy the X-Forwarded-For hop nearest to it that
    is not a trusted proxy itself (each proxy appends the address it saw)."""
    peer = scope.get("client")
    host = str(peer[0]) if peer else ""
    if trusted.networks and trusted.contains(host):
        values = [value for name, value in scope["headers"] if name == b"x-forwarded-for"]
        hops = [hop.strip() for hop in b",".join(values).decode("latin-1").split(",")]
        hops = [_without_port(hop) for hop in hops if hop]
        for hop in reversed(hops):
            if not trusted.contains(hop):
                host = hop
                break
        else:
            host = hops[0] if hops else host
    return _bucket(host[:64])


def _without_port(hop: str) -> str:
    if hop.startswith("["):  # [2001:db8::1]:443
        return hop[1:].partition("]")[0]
    if hop.count(":") == 1:  # 203.0.113.9:443
        return hop.partition(":")[0]
    return hop


@lru_cache(maxsize=65_536)
def _bucket(host: str) -> str:
    """IPv6 clients by their /64 (one host's allocation); anything else as it is."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def key_identity(scope: Scope) -> str | None:
    """A SHA-256 prefix of the bearer token, or None without one."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.partition(b" ")
            if scheme.lower() == b"bearer" and token.strip():
                return hashlib.sha256(token.strip()).hexdigest()[:24]
    return None


def is_limited_path(path: str) -> bool:
    return path.startswith("/v1/") or path == "/v1"


class RateLimitMiddleware:
    """Pure ASGI: refuses a request over a limit before anything else reads it."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter, trusted: TrustedProxies) -> None:
        self.app = app
        self.limiter = limiter
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._closing(receive), send)
            return
        if scope["type"] != "http" or not is_limited_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        identities = [("address", client_address(scope, self.trusted))]
        key = key_identity(scope)
        if key is not None:
            identities.insert(0, ("key", key))
        refusal = await self.limiter.check(identities)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        limit, retry = refusal.limit, str(refusal.retry_after)
        unit = limit.GRANULARITY.name
        period = unit if limit.multiples == 1 else f"{limit.multiples} {unit}s"
        who = "API key" if refusal.kind == "key" else "client address"
        detail = f"more than {limit.amount} requests per {period} from this {who}"
        headers = {"Retry-After": retry, "RateLimit-Limit": str(limit.amount)}
        headers |= {"RateLimit-Remaining": "0", "RateLimit-Reset": retry}
        response = problem_response(
            429, f"{detail}; retry after {retry} s", slug="too-many-requests",
            title="Too many requests", headers=headers,
        )  # fmt: skip
        await response(scope, receive, send)

    def _closing(self, receive: Receive) -> Receive:
        async def receive_and_close() -> Message:  # Redis connections end with the app
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self.limiter.close()
            return message

        return receive_and_close


def install_rate_limits(app: Starlette, settings: Settings, prefix: str = REDIS_PREFIX) -> None:
    """Add the middleware (when NPS_RATE_LIMITS sets any limit); the limiter, or None, is
    `app.state.rate_limiter`. Call it after the middleware it must run before."""
    limits = parse_rate_limits(settings.rate_limits)
    trusted = TrustedProxies(settings.trusted_proxies)
    if not limits:
        app.state.rate_limiter = None
        return
    storage = redis_storage(settings.redis_url, prefix) if settings.redis_url else ProcessMemory()
    limiter = RateLimiter(limits, storage, getattr(app.state, "metrics", None))
    app.state.rate_limiter = limiter
    app.add_middleware(RateLimitMiddleware, limiter=limiter, trusted=trusted)
