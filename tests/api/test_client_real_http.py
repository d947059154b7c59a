"""The client over real HTTP on 127.0.0.1: a uvicorn app, a socket that hangs up, a closed port."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import anyio
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from capacities_mcp import __version__
from capacities_mcp.api import (
    CapacitiesApiError,
    CapacitiesClient,
    CapacitiesConnectionError,
    OAuthCredential,
    OAuthTokens,
)

from .helpers import OBJECT_ID

OBJ = {
    "id": OBJECT_ID,
    "structureId": "RootPage",
    "collections": [],
    "properties": {"title": {"type": "title", "title": {"value": "Über 🚀"}}},
}


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """Run `app` with uvicorn on an ephemeral loopback port; yield its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class State:
    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.token_requests: list[dict[str, str]] = []
        self.valid = "at-2"
        self.hold = False  # answer nothing (each request waits) until the test lets go


def make_app(state: State) -> Starlette:
    async def api(request: Request) -> Response:
        body = await request.body()
        state.seen.append(
            {
                "method": request.method,
                "path": request.url.path,
                "query": dict(request.query_params),
                "headers": dict(request.headers),
                "body": json.loads(body) if body else None,
            }
        )
        while state.hold:
            await asyncio.sleep(0.01)
        if request.headers.get("authorization") != f"Bearer {state.valid}":
            return JSONResponse(
                {"code": "cap_not_authenticated", "message": "Bad token"},
                401,
                headers={"RateLimit": "limit=30, remaining=29, reset=60"},
            )
        if request.url.path == "/object" and request.method == "DELETE":
            return Response(status_code=200)
        return JSONResponse(OBJ, headers={"RateLimit": "limit=30, remaining=29, reset=60"})

    async def token(request: Request) -> Response:
        form = await request.form()
        state.token_requests.append({k: str(v) for k, v in form.items()})
        await asyncio.sleep(0.05)
        return JSONResponse(
            {"access_token": "at-2", "refresh_token": "rt-2", "expires_in": 3600, "token_type": "Bearer"}
        )

    return Starlette(
        routes=[
            Route("/oauth/token", token, methods=["POST"]),
            Route("/{path:path}", api, methods=["GET", "POST", "PATCH", "DELETE"]),
        ]
    )


@pytest.fixture
def live() -> Iterator[tuple[str, State]]:
    state = State()
    with serve(make_app(state)) as base_url:
        yield base_url, state


async def test_requests_over_real_http(live: tuple[str, State]) -> None:
    base_url, state = live
    state.valid = "cap-api-live"
    async with CapacitiesClient(api_token="cap-api-live", base_url=base_url + "/") as client:
        obj = await client.object.get(OBJECT_ID)
        await client.object.delete(OBJECT_ID, hard_delete=True)
        await client.object.create(
            structure_id="RootPage", properties={"title": {"type": "title", "title": {"value": "Über 🚀"}}}
        )

    assert obj.properties["title"].model_dump()["title"]["value"] == "Über 🚀"
    get, delete, create = state.seen
    assert (get["method"], get["path"], get["query"]) == ("GET", "/object", {"id": OBJECT_ID})
    assert delete["query"] == {"id": OBJECT_ID, "hardDelete": "true"}
    assert create["body"] == {
        "structureId": "RootPage",
        "properties": {"title": {"type": "title", "title": {"value": "Über 🚀"}}},
    }
    for seen in state.seen:
        headers = seen["headers"]
        assert headers["authorization"] == "Bearer cap-api-live"
        assert headers["x-capacities-api-version"] == "1.0.0"
        assert f"capacities-mcp/{__version__}" in headers["user-agent"]
    assert "content-type" not in get["headers"]
    assert create["headers"]["content-type"] == "application/json"


async def test_single_flight_refresh_over_real_http(live: tuple[str, State]) -> None:
    base_url, state = live
    persisted: list[OAuthTokens] = []

    async def on_refreshed(tokens: OAuthTokens) -> None:
        persisted.append(tokens)

    oauth = OAuthCredential(
        tokens=OAuthTokens("at-1", "rt-1", None), client_id="cid", on_token_refreshed=on_refreshed
    )
    async with CapacitiesClient(oauth=oauth, base_url=base_url) as client:
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(client.object.get, OBJECT_ID)
        assert client.oauth_tokens is not None
        assert client.oauth_tokens.refresh_token == "rt-2"

    assert state.token_requests == [
        {"grant_type": "refresh_token", "refresh_token": "rt-1", "client_id": "cid"}
    ]
    assert len(persisted) == 1
    auth = [s["headers"]["authorization"] for s in state.seen]
    assert auth.count("Bearer at-2") == 20
    assert set(auth) <= {"Bearer at-1", "Bearer at-2"}


async def test_read_timeout_over_real_http(live: tuple[str, State]) -> None:
    base_url, state = live
    state.valid = "t"
    state.hold = True  # no answer comes before the client's timeout, however slow the machine
    try:
        async with CapacitiesClient(
            api_token="t", base_url=base_url, timeout=0.5, max_retries=1, backoff_base=0.01
        ) as client:
            with pytest.raises(CapacitiesConnectionError) as write_error:
                await client.blocks.append(id=OBJECT_ID, markdown="x")
            assert write_error.value.maybe_applied is True
            with pytest.raises(CapacitiesConnectionError) as read_error:
                await client.object.get(OBJECT_ID)
            assert read_error.value.maybe_applied is False
        # The server may read a request after the client gave up on it: wait for all three.
        with anyio.fail_after(30):
            while len(state.seen) < 3:
                await anyio.sleep(0.01)
    finally:
        state.hold = False
    paths = sorted(s["path"] for s in state.seen)
    assert paths == ["/blocks/append", "/object", "/object"]  # the append is not repeated, the read is


@contextmanager
def hang_up_server() -> Iterator[tuple[str, list[bytes]]]:
    """Reads each request, then closes the connection without answering."""
    received: list[bytes] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.1)
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(1)
                with suppress(OSError):
                    received.append(conn.recv(65536))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", received
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


async def test_dropped_connection_retried_for_reads_only() -> None:
    with hang_up_server() as (base_url, received):
        async with CapacitiesClient(
            api_token="t", base_url=base_url, max_retries=2, backoff_base=0.01
        ) as client:
            with pytest.raises(CapacitiesConnectionError) as read_error:
                await client.objects.search(query="x")
            reads = len(received)
            with pytest.raises(CapacitiesConnectionError) as write_error:
                await client.object.create(structure_id="RootPage")
            writes = len(received) - reads
    assert reads == 3 and writes == 1
    assert read_error.value.maybe_applied is False
    assert write_error.value.maybe_applied is True
    # The hang-up reads as a protocol error (clean close) or a read error (reset), by timing.
    assert any(name in str(write_error.value) for name in ("RemoteProtocolError", "ReadError"))


async def test_closed_port_is_retried_even_for_writes() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens here now
    started = time.monotonic()
    async with CapacitiesClient(
        api_token="t", base_url=f"http://127.0.0.1:{port}", max_retries=2, backoff_base=0.05
    ) as client:
        with pytest.raises(CapacitiesConnectionError) as caught:
            await client.object.create(structure_id="RootPage")
    err = caught.value
    assert err.maybe_applied is False and "nothing was sent" in str(err)
    # Two retries with backoff happened before giving up (0.025..0.05 s, then 0.05..0.1 s).
    assert time.monotonic() - started >= 0.075 - 0.01


async def test_api_error_over_real_http(live: tuple[str, State]) -> None:
    base_url, _ = live
    async with CapacitiesClient(api_token="wrong", base_url=base_url) as client:
        with pytest.raises(CapacitiesApiError) as caught:
            await client.space.get()
    assert (caught.value.status, caught.value.code) == (401, "cap_not_authenticated")
