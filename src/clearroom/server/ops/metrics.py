"""Prometheus metrics of the service. Labels are bounded (route names, not paths) so the
registry cannot grow without limit."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "clearroom_http_requests_total",
    "HTTP requests answered, by route and status class.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "clearroom_http_request_duration_seconds",
    "Time to answer an HTTP request, by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
UPLOADED_BYTES = Counter(
    "clearroom_uploaded_bytes_total", "Bytes accepted into the artifact store."
)
JOBS_FINISHED = Counter(
    "clearroom_jobs_finished_total",
    "Job attempts finished, by kind and outcome.",
    ["kind", "outcome"],
)
PAGE_CACHE = Counter(
    "clearroom_page_cache_total",
    "Public page and API reads by the cache's answer: hit, fwd=uri-miss, or fwd=bypass (not"
    " anonymous, or caching off).",
    ["result"],
)
