"""A light load client for the benchmarks: keep-alive http.client connections in threads."""

from __future__ import annotations

import http.client
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np


@dataclass
class Reply:
    """What the load client keeps of a reply."""

    status_code: int
    content: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")


def fetch_all(urls: list[str], concurrency: int) -> tuple[float, list[Reply]]:
    """GET every URL with `concurrency` keep-alive connections; (elapsed seconds, replies)."""
    local = threading.local()

    def get(url: str) -> Reply:
        parts = urlsplit(url)
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        started = time.perf_counter()
        local.conn.request("GET", f"{parts.path}?{parts.query}" if parts.query else parts.path)
        response = local.conn.getresponse()
        body = response.read()
        return Reply(response.status, body, time.perf_counter() - started)

    with ThreadPoolExecutor(concurrency) as pool:
        started = time.perf_counter()
        replies = list(pool.map(get, urls))
        return time.perf_counter() - started, replies


def latency_ms(replies: list[Reply]) -> tuple[float, float]:
    """p50 and p99 latency in milliseconds."""
    seconds = np.array([reply.seconds for reply in replies])
    return float(np.percentile(seconds, 50) * 1000), float(np.percentile(seconds, 99) * 1000)
