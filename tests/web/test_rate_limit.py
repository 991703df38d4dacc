"""Rate limits per key and per client address: 429 problem+json with Retry-After, in memory
per process and shared through the real Redis at 127.0.0.1:6379."""

import hashlib
import logging
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
import redis
from fastapi import FastAPI
from fastapi.testclient import TestClient

from nps_service.config import Settings
from nps_service.keys.service import Scope
from nps_service.main import create_app
from nps_service.web.rate_limit import (
    REDIS_PREFIX,
    RateLimitMiddleware,
    TrustedProxies,
    client_address,
    install_rate_limits,
    parse_rate_limits,
)
from tests.servers import served

REDIS_URL = "redis://127.0.0.1:6379/0"


def limited_app(settings: Settings, **changes: object) -> FastAPI:
    """create_app with these settings; the limiter is installed here until main.py does."""
    settings = settings.model_copy(update=changes)
    app = create_app(settings)
    if not any(m.cls is RateLimitMiddleware for m in app.user_middleware):
        install_rate_limits(app, settings)
    return app


@contextmanager
def clients(app: FastAPI, **options: object) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False, **options) as client:  # type: ignore[arg-type]
        yield client


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def assert_limited(response: httpx.Response, limit_seconds: int = 60) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"].endswith("/too-many-requests")
    assert body["status"] == 429
    assert body["title"]
    assert body["detail"]
    assert 1 <= int(response.headers["Retry-After"]) <= limit_seconds
    assert response.headers["RateLimit-Remaining"] == "0"


def test_parse_rate_limits() -> None:
    parsed = parse_rate_limits("key: 100/second, 100000/minute; address: 20000/minute")
    assert [str(item) for item in parsed["key"]] == ["100 per 1 second", "100000 per 1 minute"]
    assert [item.amount for item in parsed["address"]] == [20000]
    assert parse_rate_limits("") == {}
    assert list(parse_rate_limits("address: 5/hour")) == ["address"]
    for bad in ("key 5/minute", "user: 5/minute", "key: lots", "key: 1/minute; key: 2/minute"):
        with pytest.raises(ValueError, match="NPS_RATE_LIMITS"):
            parse_rate_limits(bad)


def test_default_settings_limit_far_above_a_frontend() -> None:
    parsed = parse_rate_limits(Settings().rate_limits)
    assert parsed["key"][0].amount >= 100_000
    assert parsed["address"][0].amount >= 20_000


def test_limit_per_key(settings: Settings, key_factory) -> None:  # type: ignore[no-untyped-def]
    first, second = key_factory(Scope.READ), key_factory(Scope.READ)
    with clients(limited_app(settings, rate_limits="key: 3/minute")) as client:
        for _ in range(3):
            assert client.get("/v1/scores", headers=first).status_code == 200
        assert_limited(client.get("/v1/scores", headers=first))
        assert_limited(client.get("/v1/contact-rules", headers=first))  # every /v1 route
        assert client.get("/v1/scores", headers=second).status_code == 200  # its own count
        # Without a key only the address counts (none set here): 401, never 429.
        assert client.get("/v1/scores").status_code == 401


def test_limit_per_address_with_or_without_a_key(settings: Settings, key_factory) -> None:  # type: ignore[no-untyped-def]
    with clients(limited_app(settings, rate_limits="address: 3/minute")) as client:
        assert client.get("/v1/scores").status_code == 401
        assert client.get("/v1/scores", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert client.get("/v1/scores", headers=key_factory(Scope.READ)).status_code == 200
        assert_limited(client.get("/v1/scores"))
        assert_limited(client.get("/v1/scores", headers=key_factory(Scope.READ)))


def test_both_kinds_and_several_limits_per_kind(settings: Settings, read_headers) -> None:  # type: ignore[no-untyped-def]
    app = limited_app(settings, rate_limits="key: 10/second, 4/minute; address: 1000/minute")
    with clients(app) as client:
        for _ in range(4):
            assert client.get("/v1/scores", headers=read_headers).status_code == 200
        response = client.get("/v1/scores", headers=read_headers)
        assert_limited(response)
        assert "4 requests per minute" in response.json()["detail"]


def test_window_frees_after_retry_after(settings: Settings, read_headers) -> None:  # type: ignore[no-untyped-def]
    with clients(limited_app(settings, rate_limits="key: 2/second")) as client:
        assert [client.get("/v1/scores", headers=read_headers).status_code for _ in range(2)] == [
            200,
            200,
        ]
        response = client.get("/v1/scores", headers=read_headers)
        assert_limited(response, limit_seconds=1)
        time.sleep(float(response.headers["Retry-After"]) + 0.05)
        assert client.get("/v1/scores", headers=read_headers).status_code == 200


def test_single_answers_on_the_fast_path_are_limited(
    settings: Settings, ingest_headers: dict[str, str], read_headers: dict[str, str]
) -> None:
    with clients(limited_app(settings, rate_limits="key: 3/minute")) as client:
        statuses = [
            client.post(
                "/v1/responses", json={"respondent_id": f"r{i}", "score": 9}, headers=ingest_headers
            ).status_code
            for i in range(6)
        ]
        assert statuses == [201, 201, 201, 429, 429, 429]
        stored = client.get("/v1/responses", headers=read_headers).json()
        assert len(stored["items"]) == 3


def test_operations_routes_are_not_limited(settings: Settings) -> None:
    with clients(limited_app(settings, rate_limits="address: 1/minute")) as client:
        for _ in range(3):
            for path in ("/healthz", "/readyz", "/metrics", "/widget/nps-survey.js"):
                assert client.get(path).status_code == 200, path
        assert client.get("/v1/scores").status_code == 401
        assert_limited(client.get("/v1/scores"))


def test_x_forwarded_for_only_from_trusted_proxies(settings: Settings) -> None:
    app = limited_app(settings, rate_limits="address: 2/minute", trusted_proxies=["10.0.0.0/8"])
    proxied = {"client": ("10.0.0.1", 4000)}
    with clients(app, **proxied) as proxy, clients(app, client=("192.0.2.9", 4000)) as direct:
        alice = {"X-Forwarded-For": "203.0.113.7, 10.0.0.2"}  # through two of our proxies
        assert proxy.get("/v1/scores", headers=alice).status_code == 401
        assert proxy.get("/v1/scores", headers=alice).status_code == 401
        assert_limited(proxy.get("/v1/scores", headers=alice))
        # A forged hop to the left of the one our proxy added changes nothing.
        assert_limited(proxy.get("/v1/scores", headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.7"}))
        assert (
            proxy.get("/v1/scores", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 401
        )
        # From an untrusted peer the header is ignored: the peer is the client.
        for forged in ("198.51.100.1", "198.51.100.2"):
            assert direct.get("/v1/scores", headers={"X-Forwarded-For": forged}).status_code == 401
        assert_limited(direct.get("/v1/scores", headers={"X-Forwarded-For": "198.51.100.3"}))


def test_client_address() -> None:
    trusted = TrustedProxies(["10.0.0.0/8", "2001:db8:ffff::1"])
    none = TrustedProxies([])

    def scope(peer: str, *forwarded: str) -> dict[str, object]:
        headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
        return {"client": (peer, 1), "headers": headers}

    assert client_address(scope("10.1.2.3", "203.0.113.5"), trusted) == "203.0.113.5"
    assert client_address(scope("10.1.2.3", "203.0.113.5"), none) == "10.1.2.3"
    assert client_address(scope("192.0.2.1", "203.0.113.5"), trusted) == "192.0.2.1"
    # Several headers, ports, IPv6 in brackets; a client that is itself a proxy.
    assert client_address(scope("10.0.0.1", "a, 203.0.113.5:443", "10.9.9.9"), trusted) == (
        "203.0.113.5"
    )
    assert client_address(scope("2001:db8:ffff::1", "[2001:db8:1:2:3::4]:80"), trusted) == (
        "2001:db8:1:2::/64"  # one IPv6 host may use its whole /64
    )
    assert client_address(scope("10.0.0.1", "10.0.0.7, 10.0.0.8"), trusted) == "10.0.0.7"
    assert client_address(scope("10.0.0.1"), trusted) == "10.0.0.1"
    assert client_address(scope("::ffff:192.0.2.1"), none) == "192.0.2.1"


def test_limits_off_when_empty(settings: Settings, read_headers: dict[str, str]) -> None:
    app = limited_app(settings, rate_limits="")
    assert app.state.rate_limiter is None
    with clients(app) as client:
        assert all(
            client.get("/v1/scores", headers=read_headers).status_code == 200 for _ in range(30)
        )


# Redis, shared by two app instances as by two worker processes.


@pytest.fixture
def redis_cleanup() -> Iterator[list[str]]:
    """Identities used by a test; their counters are deleted afterwards."""
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is unreachable: {exc}")
    identities: list[str] = []
    yield identities
    for identity in identities:
        for name in connection.scan_iter(match=f"{REDIS_PREFIX}*{identity}*"):
            connection.delete(name)
    connection.close()


def test_redis_shares_a_key_limit_between_two_apps(
    settings: Settings, read_headers: dict[str, str], redis_cleanup: list[str]
) -> None:
    redis_cleanup.append(hashlib.sha256(token_of(read_headers).encode()).hexdigest()[:24])
    changes = {"rate_limits": "key: 5/minute", "redis_url": REDIS_URL}
    with ExitStack() as stack:
        one = stack.enter_context(clients(limited_app(settings, **changes)))
        two = stack.enter_context(clients(limited_app(settings, **changes)))
        statuses = [
            (one if i % 2 else two).get("/v1/scores", headers=read_headers).status_code
            for i in range(10)
        ]
        assert statuses == [200] * 5 + [429] * 5
        assert_limited(one.get("/v1/scores", headers=read_headers))
        assert_limited(two.get("/v1/scores", headers=read_headers))
    assert redis.Redis.from_url(REDIS_URL).keys(f"{REDIS_PREFIX}*{redis_cleanup[0]}*")


def test_redis_shares_an_address_limit_between_two_apps(
    settings: Settings, redis_cleanup: list[str]
) -> None:
    network = f"2001:db8:{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"  # unique per run
    redis_cleanup.append(network)
    changes = {
        "rate_limits": "address: 3/minute",
        "redis_url": REDIS_URL,
        "trusted_proxies": ["10.0.0.1"],
    }
    forwarded = {"X-Forwarded-For": f"{network}::1"}
    with ExitStack() as stack:
        one = stack.enter_context(clients(limited_app(settings, **changes), client=("10.0.0.1", 1)))
        two = stack.enter_context(clients(limited_app(settings, **changes), client=("10.0.0.1", 1)))
        assert one.get("/v1/scores", headers=forwarded).status_code == 401
        assert two.get("/v1/scores", headers=forwarded).status_code == 401
        assert (
            one.get("/v1/scores", headers={"X-Forwarded-For": f"{network}::2"}).status_code == 401
        )
        assert_limited(two.get("/v1/scores", headers=forwarded))


def test_redis_down_fails_open_with_one_log_line(
    settings: Settings, read_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = limited_app(settings, rate_limits="key: 1/minute", redis_url=f"redis://127.0.0.1:{port}")
    with clients(app) as client, caplog.at_level(logging.WARNING, "nps_service.rate_limit"):
        started = time.monotonic()
        for _ in range(5):
            assert client.get("/v1/scores", headers=read_headers).status_code == 200
        assert time.monotonic() - started < 5
    lines = [r for r in caplog.records if r.name == "nps_service.rate_limit"]
    assert len(lines) == 1
    assert "not enforced" in lines[0].getMessage()


# The real server: two worker processes, one Redis.


@contextmanager
def serve(tmp_path: Path, env: dict[str, str], workers: int) -> Iterator[str]:
    """`nps-service serve` in a subprocess with this environment, logging to
    tmp_path/server.log."""
    with served(env["NPS_DATABASE_URL"], tmp_path, workers=workers, extra_env=env) as server:
        yield server.base


def create_key_with_cli(env: dict[str, str], scope: str = "admin") -> str:
    command = [sys.executable, "-m", "nps_service", "keys", "create", "--name", "t"]
    result = subprocess.run(
        [*command, "--scope", scope], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@pytest.mark.slow
def test_two_workers_share_the_limit_through_redis(
    database_url: str, tmp_path: Path, redis_cleanup: list[str]
) -> None:
    env = {
        **os.environ,
        "NPS_DATABASE_URL": database_url,
        "NPS_REDIS_URL": REDIS_URL,
        "NPS_RATE_LIMITS": "key: 12/minute; address: 100000/minute",
    }
    main = Path(__file__).resolve().parents[2] / "src" / "nps_service" / "main.py"
    if "install_rate_limits" not in main.read_text(encoding="utf-8"):
        pytest.skip("main.py does not install the rate limiter yet")
    key = create_key_with_cli(env)
    redis_cleanup.append(hashlib.sha256(key.encode()).hexdigest()[:24])
    headers = {"Authorization": f"Bearer {key}", "Connection": "close"}
    with serve(tmp_path, env, workers=2) as base:
        # A new connection per request, so the kernel hands them to either worker.
        statuses = [httpx.get(f"{base}/v1/scores", headers=headers).status_code for _ in range(30)]
        refused = httpx.get(f"{base}/v1/scores", headers=headers)
    assert statuses == [200] * 12 + [429] * 18
    assert_limited(refused)
