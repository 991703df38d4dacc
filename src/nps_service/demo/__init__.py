"""Realistic demo answers for a Douyin-style e-commerce platform, fast enough for 10M rows.

`catalogue` holds the platform's data (categories, channels, regions, seasons, comments),
`tables` the precomputed draw tables, `seasons` the time grid and `generator` the draws.
Answers come out in `submitted_at` order as `POST /v1/responses` bodies; write them with
`responses.formats` (`write_csv`, `write_ndjson`).
"""

from nps_service.demo.catalogue import BAD_LOGISTICS_MERCHANTS
from nps_service.demo.config import DemoConfig
from nps_service.demo.generator import generate

__all__ = ["BAD_LOGISTICS_MERCHANTS", "DemoConfig", "generate"]
