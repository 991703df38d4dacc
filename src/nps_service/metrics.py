"""What the service counts for its operators (Prometheus), defined once for every layer.

One `Metrics` per app, so several apps in one process (tests) never clash. Under `serve`
the server sets PROMETHEUS_MULTIPROC_DIR, and every worker process writes its values
where the one answering `/metrics` adds them all up (prometheus-client's multiprocess
mode): counters and histograms are summed over the workers, gauges of live workers too.
"""

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR"
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SLOW = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROCESS))
        self.registry = CollectorRegistry()
        # In multiprocess mode the values live in files, not in a registry.
        registry = None if self.multiprocess else self.registry
        self.requests = Counter(
            "nps_http_requests",
            "HTTP requests handled",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "nps_http_request_duration_seconds",
            "Request latency",
            ["method", "route"],
            buckets=_FAST,
            registry=registry,
        )
        self.in_flight = Gauge(
            "nps_http_requests_in_flight",
            "Requests being served",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.waiting = Gauge(
            "nps_http_requests_waiting",
            "Requests waiting for a turn (concurrency limit)",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.shed = Counter(
            "nps_http_requests_shed",
            "Requests answered 503 or 422 to protect the service",
            ["reason"],
            registry=registry,
        )
        self.responses_stored = Counter(
            "nps_responses_stored", "Survey answers newly stored", registry=registry
        )
        self.ingest_groups = Histogram(
            "nps_ingest_group_size",
            "Single answers stored per transaction (group commit)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 500),
            registry=registry,
        )
        self.folded = Counter(
            "nps_folded_answers", "Pending answers folded into the rollups", registry=registry
        )
        self.fold_duration = Histogram(
            "nps_fold_duration_seconds",
            "Time of one fold batch",
            buckets=_SLOW,
            registry=registry,
        )
        self.fold_failures = Counter(
            "nps_fold_failures", "Fold batches that failed (retried)", registry=registry
        )
        self.upkeep = Counter(
            "nps_upkeep_statements",
            "VACUUM and ANALYZE run by the service itself",
            ["statement"],
            registry=registry,
        )
        self.pool_in_use = Gauge(
            "nps_db_pool_connections_in_use",
            "Database connections checked out",
            ["pool"],
            registry=registry,
            multiprocess_mode="livesum",
        )

    def collector_registry(self) -> CollectorRegistry:
        """The registry to expose: this app's, or every worker's added up."""
        if not self.multiprocess:
            return self.registry
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
