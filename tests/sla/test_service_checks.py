"""The SLA's web and DNS checks against real servers on loopback: an HTTP GET and a DNS query over UDP, bounded."""

from __future__ import annotations

import asyncio
import http.server
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from fleet.collectors.services import ServiceCheck, run_checks
from fleet.sim.services import ServiceSim, SimService
from tests.conftest import free_port

DEADLINE = 3.0


@pytest.fixture
def services() -> Iterator[tuple[ServiceSim, SimService]]:
    svc = SimService("127.0.0.1", "www1.hosting.example.net", free_port(socket.SOCK_STREAM), free_port())
    with ServiceSim([svc]).start() as sim:
        yield sim, svc


def check(svc: SimService) -> dict[str, bool]:
    c = ServiceCheck(1, svc.host, svc.name, svc.web_port, svc.dns_port)
    return asyncio.run(run_checks([c], timeout=DEADLINE, concurrency=2))[1]


def test_up_error_and_silent_services(services: tuple[ServiceSim, SimService]) -> None:
    sim, svc = services
    assert check(svc) == {"web": True, "dns": True}
    sim.set(svc.host, web="error", dns="error")  # HTTP 503 and DNS SERVFAIL: the services answer, but fail
    assert check(svc) == {"web": False, "dns": False}
    sim.set(svc.host, web="down", dns="down")
    began = time.monotonic()
    assert check(svc) == {"web": False, "dns": False}
    # Silent services cost the deadline, no more (the two checks run side by side).
    assert time.monotonic() - began < DEADLINE * 2


def test_a_service_simulator_used_as_a_context_serves_and_stops() -> None:
    svc = SimService("127.0.0.1", "www2.hosting.example.net", free_port(socket.SOCK_STREAM), free_port())
    with ServiceSim([svc]):  # no .start(): entering starts it
        assert check(svc) == {"web": True, "dns": True}
    assert check(svc) == {"web": False, "dns": False}  # and leaving stops it


def test_a_port_that_is_only_open_is_not_a_dns_server() -> None:
    """A TCP listener on the DNS port (what a connect check accepted) does not answer a DNS query over UDP."""
    with socket.socket() as tcp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        port = tcp.getsockname()[1]
        c = ServiceCheck(1, "127.0.0.1", "x.example.net", None, port)
        assert asyncio.run(run_checks([c], timeout=1.0, concurrency=1)) == {1: {"dns": False}}


def test_any_status_below_500_is_up_with_the_standard_library_http_server() -> None:
    class Handler(http.server.BaseHTTPRequestHandler):
        code = 404

        def do_GET(self) -> None:
            self.send_response(Handler.code)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        c = ServiceCheck(1, "127.0.0.1", "x.example.net", server.server_address[1], None)
        assert asyncio.run(run_checks([c], timeout=DEADLINE, concurrency=1)) == {1: {"web": True}}
        Handler.code = 500
        assert asyncio.run(run_checks([c], timeout=DEADLINE, concurrency=1)) == {1: {"web": False}}
    finally:
        server.shutdown()
        server.server_close()
