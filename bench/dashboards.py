"""The dashboards a China-time user opens, timed through the API."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx

from bench.report import percentiles

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Dashboard:
    """One dashboard query and the client that asks it."""

    label: str
    path: str
    params: dict[str, str]
    client: httpx.Client

    def once(self) -> float:
        """Milliseconds for one answer (status 200 required)."""
        started = time.perf_counter()
        reply = self.client.get(self.path, params=self.params)
        elapsed = (time.perf_counter() - started) * 1000
        if reply.status_code != 200:
            raise SystemExit(f"{self.label}: {reply.status_code} {reply.text[:300]}")
        return elapsed

    def global_n(self) -> int:
        """Every stored answer, as the global NPS counts them."""
        reply = self.client.get("/v1/scores")
        reply.raise_for_status()
        n: int = reply.json()["groups"][0]["overall"]["n"]
        return n


def china_dashboard(base: str, key: str) -> list[Dashboard]:
    """Global NPS over 30 days, day x category over 90, one merchant by week, a ranking."""
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120)
    today = datetime.now(SHANGHAI).date()
    tomorrow = (today + timedelta(days=1)).isoformat()
    zone = {"tz": "Asia/Shanghai", "to": tomorrow}
    return [
        Dashboard(
            "global NPS, 30 days",
            "/v1/scores",
            {**zone, "from": (today - timedelta(days=29)).isoformat()},
            client,
        ),
        Dashboard(
            "day x category, 90 days",
            "/v1/scores",
            {
                **zone,
                "from": (today - timedelta(days=89)).isoformat(),
                "interval": "day",
                "group_by": "category",
            },
            client,
        ),
        Dashboard(
            "one merchant by week, 90 days",
            "/v1/scores",
            {
                **zone,
                "from": (today - timedelta(days=89)).isoformat(),
                "interval": "week",
                "merchant_id": "m_42",
            },
            client,
        ),
        Dashboard(
            "merchant ranking in beauty, 90 days",
            "/v1/merchants",
            {"category": "beauty", "tz": "Asia/Shanghai", "sort": "-ci_low", "min_n": "30"},
            client,
        ),
    ]


def time_dashboard(query: Dashboard, runs: int, warmup: int = 2) -> tuple[float, float]:
    """p50 and p95 in milliseconds over `runs` answers."""
    for _ in range(warmup):
        query.once()
    return percentiles([query.once() for _ in range(runs)])
