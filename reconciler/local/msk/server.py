"""A local Amazon MSK control-plane endpoint for the demo and the tests.

It speaks MSK's REST-JSON protocol, so the unmodified boto3 `kafka` client reaches it with
`endpoint_url=` or AWS_ENDPOINT_URL_KAFKA and dummy credentials, and the production code path
runs unchanged. Requests are parsed and responses written by walking botocore's own `kafka`
service model (routes, member names, timestamps, blobs come from it), so the wire format
cannot drift from AWS's; the tests validate every response against the output shapes again.

Semantics follow MSK: CurrentVersion optimistic concurrency (a stale version gets MSK's
BadRequestException text), CREATING/UPDATING -> ACTIVE, one operation at a time, operations
with steps that take `operation_seconds`, configuration revisions, the update rules of
`reconciler.kinds.msk_cluster.rules` enforced server-side, and bootstrap brokers that point
at the local Kafka cluster. Operations advance from the clock on every request, so no
background thread mutates state. Outside the AWS API, `/_local/...` endpoints (and the same
methods on `MskServer`) inject an operation failure, throttle requests or move the clock
forward.

    python -m reconciler.local.msk.server --port 9500 --kafka-bootstrap 127.0.0.1:9092
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from reconciler.kinds.msk_cluster import rules
from reconciler.local.msk.backend import MskBackend

log = logging.getLogger(__name__)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    backend: MskBackend


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = parse_qs(parts.query, keep_blank_values=True)
        status, headers, payload = self.server.backend.dispatch(
            method, parts.path, query, body, dict(self.headers.items())
        )
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class MskServer:
    """A running local MSK endpoint; `stop()` shuts it down (also a context manager)."""

    def __init__(self, httpd: _HttpServer, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        self.backend = httpd.backend
        # the backend's failure controls (`failures.FailureInjection`), as they are
        self.inject_failure = self.backend.inject_failure
        self.throttle = self.backend.throttle
        self.advance_clock = self.backend.advance_clock

    @property
    def endpoint_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> MskServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_msk_server(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    kafka_bootstrap: str,
    operation_seconds: float = 2.0,
    state_file: Path | None = None,
    kafka_tls_bootstrap: str | None = None,
    storage_cooldown_seconds: float = rules.STORAGE_COOLDOWN.total_seconds(),
    topic_refresh_seconds: float = 5.0,
    secrets_endpoint: str | None = None,
) -> MskServer:
    """Serve the local MSK endpoint on a background thread; port 0 picks a free port."""
    httpd = _HttpServer((host, port), _Handler)
    httpd.backend = MskBackend(
        kafka_bootstrap=kafka_bootstrap,
        kafka_tls_bootstrap=kafka_tls_bootstrap,
        operation_seconds=operation_seconds,
        storage_cooldown_seconds=storage_cooldown_seconds,
        state_file=state_file,
        topic_refresh_seconds=topic_refresh_seconds,
        secrets_endpoint=secrets_endpoint,
    )
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="msk-endpoint", daemon=True
    )
    thread.start()
    return MskServer(httpd, thread)


def main(argv: list[str] | None = None) -> int:
    """Serve in the foreground until SIGTERM/SIGINT (`reconciler local up` runs it detached)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--kafka-bootstrap", required=True)
    parser.add_argument("--kafka-tls-bootstrap")
    parser.add_argument("--operation-seconds", type=float, default=2.0)
    parser.add_argument(
        "--storage-cooldown-seconds", type=float, default=rules.STORAGE_COOLDOWN.total_seconds()
    )
    parser.add_argument("--state-file", type=Path)
    parser.add_argument("--topic-refresh-seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    server = start_msk_server(
        args.host,
        args.port,
        kafka_bootstrap=args.kafka_bootstrap,
        kafka_tls_bootstrap=args.kafka_tls_bootstrap,
        operation_seconds=args.operation_seconds,
        state_file=args.state_file,
        storage_cooldown_seconds=args.storage_cooldown_seconds,
        topic_refresh_seconds=args.topic_refresh_seconds,
    )
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    print(server.endpoint_url, flush=True)
    stopping.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
