"""The time grid: how many answers each UTC hour gets and how experience shifts with the
seasons (Double 11, 618, the Spring Festival), the platform's growth and one bad app release."""

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from nps_service.demo.catalogue import CHINA_OFFSET, HOURLY_VOLUME, SPRING_FESTIVAL, WEEKDAY_VOLUME
from nps_service.demo.config import DemoConfig
from nps_service.demo.tables import clamp, properties_table


def _bump(days_away: float, width: float) -> float:
    return math.exp(-0.5 * (days_away / width) ** 2)


def _days_to(local: datetime, month: int, day: int) -> float:
    """Signed days from the nearest (month, day) to a China-local time."""
    best = math.inf
    for year in (local.year - 1, local.year, local.year + 1):
        when = datetime(year, month, day, 12)
        delta = (local - when).total_seconds() / 86400
        best = delta if abs(delta) < abs(best) else best
    return best


def _days_to_spring_festival(local: datetime) -> float:
    best = math.inf
    for year in (local.year - 1, local.year, local.year + 1):
        festival = SPRING_FESTIVAL.get(year, date(year, 2, 5))
        when = datetime(festival.year, festival.month, festival.day, 12)
        delta = (local - when).total_seconds() / 86400
        best = delta if abs(delta) < abs(best) else best
    return best


@dataclass
class Hour:
    """One hour of the time grid: how many answers, where in the hour, how things were."""

    prefix: str  # "2026-11-20T10:"
    first_second: int
    seconds: int
    volume: float
    offsets: tuple[int, int, int, int]  # season and trend, tenths, per dimension
    properties: list[dict[str, Any] | None]


@dataclass(frozen=True)
class _Season:
    """Signed days from a China-local time to the nearest of each yearly event."""

    double11: float
    mid_year: float  # 618
    festival: float  # the Spring Festival
    app_bug: float  # an app release that broke checkout for a week (8 August)

    @classmethod
    def at(cls, local: datetime) -> "_Season":
        return cls(
            _days_to(local, 11, 11),
            _days_to(local, 6, 18),
            _days_to_spring_festival(local),
            _days_to(local, 8, 8),
        )

    def volume(self) -> float:
        """Shopping festivals bring more answers; the Spring Festival fewer."""
        return (
            (1 + 1.8 * _bump(self.double11 - 3, 4))
            * (1 + 0.8 * _bump(self.mid_year - 2, 3))
            * (1 - 0.5 * _bump(self.festival - 2, 6))
        )

    def offsets(self, age_days: float) -> tuple[int, int, int, int]:
        """Shifts of logistics, product, service and app (tenths of a rating)."""
        trend = max(-15.0, -6.0 * age_days / 365)  # slow improvement towards end
        logistics = (
            trend
            - 14 * _bump(self.double11 - 4, 5)
            - 7 * _bump(self.mid_year - 3, 4)
            - 16 * _bump(self.festival, 7)
        )
        product = trend - 2 * _bump(self.double11, 8)
        service = trend - 5 * _bump(self.double11 - 5, 6) - 5 * _bump(self.festival, 6)
        app = trend - 10 * _bump(self.app_bug, 3)
        return (
            clamp(round(logistics), -40, 20),
            clamp(round(product), -40, 20),
            clamp(round(service), -40, 20),
            clamp(round(app), -40, 20),
        )

    def campaign(self) -> str | None:
        """The campaign running, as answers' properties name it."""
        if -20 <= self.double11 <= 9:
            return "double11"
        if -17 <= self.mid_year <= 5:
            return "618"
        if -25 <= self.festival <= -8:
            return "nianhuo"
        return None


def hour_grid(config: DemoConfig, rng: random.Random) -> list[Hour]:
    """The UTC hours covering [start, end), weighted by seasonal, weekly and daily volume."""
    start_us = _epoch_us(config.start)
    end_us = _epoch_us(config.end)
    first = -(-start_us // 1_000_000)  # whole seconds s with start <= s < end
    stop = -(-end_us // 1_000_000)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    day_noise: dict[date, float] = {}
    properties = {name: properties_table(name) for name in (None, "double11", "618", "nianhuo")}
    hours = []
    for hour_start in range(first // 3600 * 3600, stop, 3600):
        lo = max(first, hour_start) - hour_start
        hi = min(stop, hour_start + 3600) - hour_start
        utc = epoch + timedelta(seconds=hour_start)
        local = (utc + CHINA_OFFSET).replace(tzinfo=None)
        if local.date() not in day_noise:
            day_noise[local.date()] = rng.lognormvariate(0.0, 0.08)
        season = _Season.at(local)
        age_days = (end_us / 1e6 - hour_start) / 86400
        volume = (
            HOURLY_VOLUME[local.hour]
            * WEEKDAY_VOLUME[local.weekday()]
            * day_noise[local.date()]
            * season.volume()
            * math.exp(-0.25 * age_days / 365)  # the platform grows
            * (hi - lo)
            / 3600
        )
        hours.append(
            Hour(
                prefix=utc.strftime("%Y-%m-%dT%H:"),
                first_second=lo,
                seconds=hi - lo,
                volume=volume,
                offsets=season.offsets(age_days),
                properties=properties[season.campaign()],
            )
        )
    return hours


def _epoch_us(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
