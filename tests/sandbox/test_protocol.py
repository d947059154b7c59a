"""What every route shares: tokens and scopes, the version header, validation of the request
itself, unknown routes, and per-token rate limits with their headers."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import httpx2
import pytest

from capacities_mcp.api import ROUTES, CapacitiesApiError, CapacitiesClient, parse_rate_limit
from capacities_mcp.sandbox import FixedWindowLimiter, SandboxConfig, SandboxServer

from .helpers import IDS, Api, error_of, fixture_store

RATE_LIMIT = re.compile(r"^limit=(\d+), remaining=(\d+), reset=(\d+)$")


def _rate(response: httpx2.Response) -> tuple[int, int, int]:
    match = RATE_LIMIT.match(response.headers["RateLimit"])
    assert match, response.headers["RateLimit"]
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def test_missing_unknown_and_revoked_tokens(sandbox: SandboxServer) -> None:
    with httpx2.Client(base_url=sandbox.base_url) as http:
        for headers in (
            {},
            {"Authorization": "Bearer cap-api-unknown"},
            {"Authorization": "Basic abc"},
            {"Authorization": "Bearer not-a-jwt"},
        ):
            response = http.get("/space", headers=headers)
            assert error_of(response)[:2] == (401, "cap_not_authenticated")
            assert "RateLimit" in response.headers
        token = sandbox.mint_token(("api:read",))
        assert http.get("/space", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        sandbox.revoke_token(token)
        assert http.get("/space", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_every_route_demands_its_scope(sandbox: SandboxServer, reader: Api) -> None:
    writer_only = Api(sandbox.base_url, sandbox.mint_token(("api:write",)))
    try:
        for route in ROUTES:
            client = reader if route.scope == "api:write" else writer_only
            response = client.http.request(route.method, route.path)
            status, code, message = error_of(response)
            assert (status, code) == (403, "cap_scope_insufficient"), route.key
            assert response.json()["details"] == {"missingScopes": [route.scope]}
            assert route.scope in message
    finally:
        writer_only.close()
    # A read-only token reads fine.
    assert reader.get("/object", id=IDS["alpha"]).status_code == 200


def test_tokens_are_stored_hashed(sandbox: SandboxServer) -> None:
    token = sandbox.mint_token(("api:read",))
    assert token.startswith("cap-api-") and len(token) > 30
    assert token not in str(sandbox.state.to_json())


def test_version_header(api: Api) -> None:
    assert api.http.get("/space", headers={"X-Capacities-Api-Version": "1.0.0"}).status_code == 200
    assert api.http.get("/space", headers={"x-capacities-api-version": "1.4.2"}).status_code == 200
    for bad in ("1.0", "v1.0.0", "latest", "01.0.0"):
        status, code, message = error_of(api.http.get("/space", headers={"X-Capacities-Api-Version": bad}))
        assert (status, code) == (400, "cap_invalid_input") and "semantic version" in message
    status, code, message = error_of(api.http.get("/space", headers={"X-Capacities-Api-Version": "0.1.0"}))
    assert (status, code) == (400, "cap_invalid_input") and "minimum supported version is 1.0.0" in message


def test_minimum_version_is_configurable() -> None:
    with SandboxServer(SandboxConfig(min_api_version="0.1.0", seed=False)) as sandbox:
        headers = {"Authorization": f"Bearer {sandbox.api_token}", "X-Capacities-Api-Version": "0.1.0"}
        assert httpx2.get(f"{sandbox.base_url}/space", headers=headers).status_code == 200


def test_unknown_routes_and_methods(api: Api) -> None:
    for method, path in (
        ("GET", "/nope"),
        ("GET", "/user/spaces"),
        ("PUT", "/object"),
        ("POST", "/space"),
        ("GET", "/objects/search"),
        ("POST", "/structures"),
    ):
        response = api.http.request(method, path)
        assert error_of(response)[:2] == (404, "cap_not_found"), (method, path)
        assert "RateLimit" in response.headers


def test_malformed_bodies(api: Api) -> None:
    headers = {"Content-Type": "application/json"}
    for raw in (b"{not json", b"", b"\xff\xfe", b'"just a string"', b"null"):
        status, code, message = error_of(api.http.post("/objects/search", content=raw, headers=headers))
        assert (status, code) == (400, "cap_invalid_input"), raw
        assert message.startswith("✖ ")


def test_oversized_body_is_413() -> None:
    with (
        SandboxServer(SandboxConfig(seed=False, max_body_bytes=2_000)) as sandbox,
        httpx2.Client(
            base_url=sandbox.base_url, headers={"Authorization": f"Bearer {sandbox.api_token}"}
        ) as http,
    ):
        big = {"query": "x", "padding": "y" * 3_000}
        response = http.post("/objects/search", json=big)
        assert error_of(response)[:2] == (413, "cap_invalid_input")
        assert "RateLimit" in response.headers

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit still holds
            yield b'{"query": "x", "padding": "'
            for _ in range(10):
                yield b"z" * 500
            yield b'"}'

        chunked = http.post("/objects/search", content=chunks(), headers={"Content-Type": "application/json"})
        assert error_of(chunked)[:2] == (413, "cap_invalid_input")
        assert http.post("/objects/search", json={"query": "x"}).status_code == 200


@pytest.fixture(scope="module")
def fast_window() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(rate_limit_window=1.0), store=fixture_store()) as server:
        yield server


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_rate_limit_headers_and_429(fast_window: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()  # deterministic windows, over real HTTP
    limiter = FixedWindowLimiter(fast_window.config.rate_limit_window, clock=clock)
    monkeypatch.setattr(fast_window.runtime, "limiter", limiter)
    api = Api(fast_window.base_url, fast_window.mint_token(("api:read", "api:write")))
    other = Api(fast_window.base_url, fast_window.mint_token(("api:read",)))
    try:
        first = api.get("/space")
        limit, remaining, reset = _rate(first)
        assert (limit, remaining, reset) == (10, 9, 1)
        for expected in range(8, -1, -1):
            assert _rate(api.get("/space"))[1] == expected
        blocked = api.get("/space")
        assert blocked.status_code == 429
        assert blocked.json() == {"code": "cap_rate_limit_exceeded", "message": "Rate limit exceeded"}
        assert _rate(blocked) == (10, 0, 1) and blocked.headers["Retry-After"] == "1"
        # Per token and per route: other routes and other tokens still have their quota.
        assert _rate(api.get("/object", id=IDS["alpha"]))[:2] == (30, 29)
        assert other.get("/space").status_code == 200
        # Errors count and carry the header too; so do requests without a valid token.
        bad = api.get("/object", id="bad")
        assert bad.status_code == 400 and _rate(bad)[:2] == (30, 28)
        assert _rate(api.http.get("/space", headers={"Authorization": "Bearer cap-api-bogus"}))[:2] == (10, 9)
        clock.now += 0.5
        assert api.get("/space").status_code == 429  # same window
        clock.now += 0.5
        assert _rate(api.get("/space"))[:2] == (10, 9)  # a new window
    finally:
        api.close()
        other.close()


def test_fixed_window_limiter_counts_per_caller_and_route() -> None:
    clock = FakeClock()
    limiter = FixedWindowLimiter(60.0, clock=clock)
    decisions = [limiter.hit("a", "GET /space", 2) for _ in range(3)]
    assert [d.allowed for d in decisions] == [True, True, False]
    assert decisions[0].header == "limit=2, remaining=1, reset=60"
    assert limiter.hit("b", "GET /space", 2).allowed and limiter.hit("a", "GET /object", 2).allowed
    clock.now += 59.2
    assert limiter.hit("a", "GET /space", 2).header == "limit=2, remaining=0, reset=1"
    clock.now += 0.8
    assert limiter.hit("a", "GET /space", 2).remaining == 1


async def test_client_waits_out_429(fast_window: SandboxServer) -> None:
    """The typed client reads RateLimit/Retry-After and retries after the (1 s) window."""
    token = fast_window.mint_token(("api:read",))
    async with CapacitiesClient(
        api_token=token, base_url=fast_window.base_url, max_rate_limit_wait=5
    ) as client:
        started = time.monotonic()
        for _ in range(11):
            await client.space.get()
        assert time.monotonic() - started >= 0.5  # the 11th call had to wait for the next window
    async with CapacitiesClient(
        api_token=token, base_url=fast_window.base_url, max_rate_limit_wait=0
    ) as client:
        with pytest.raises(CapacitiesApiError) as caught:
            for _ in range(12):
                await client.space.get()
        assert caught.value.code == "cap_rate_limit_exceeded"


def test_rate_limit_header_parses_with_client_parser(api: Api) -> None:
    state = parse_rate_limit(api.get("/object", id=IDS["alpha"]).headers)
    assert state is not None and state.limit == 30 and state.remaining == 29


def test_numbers_parse_as_javascript_does(api: Api) -> None:
    headers = {"Content-Type": "application/json"}
    integral = api.http.post("/objects/search", content=b'{"query": "alpha", "limit": 2.0}', headers=headers)
    assert integral.status_code == 200 and len(integral.json()["results"]) == 2
    status, code, message = error_of(
        api.http.post("/objects/search", content=b'{"query": "x", "limit": 1e400}', headers=headers)
    )
    assert (status, code) == (400, "cap_invalid_input") and "→ at limit" in message
    status, _, message = error_of(
        api.http.post("/objects/search", content=b'{"query": "x", "limit": 2.5}', headers=headers)
    )
    assert status == 400 and "→ at limit" in message
    for literal in (b"NaN", b"Infinity", b"-Infinity"):
        body = b'{"query": "x", "limit": ' + literal + b"}"
        assert error_of(api.http.post("/objects/search", content=body, headers=headers))[:2] == (
            400,
            "cap_invalid_input",
        )
    overflow = (
        b'{"structureId": "RootPage", "properties": {"title": {"type": "title", "title": {"value": "n"}}}, '
        b'"x": -1e999}'
    )
    assert (
        api.http.post("/object", content=overflow, headers=headers).status_code == 200
    )  # unknown keys are dropped


def test_lone_surrogates_round_trip(api: Api, sandbox: SandboxServer) -> None:
    headers = {"Content-Type": "application/json"}
    raw = (
        b'{"structureId": "RootPage", "properties": {"title": {"type": "title", '
        b'"title": {"value": "s\\ud800s \\ud83d\\ude00"}}}}'
    )
    created = api.http.post("/object", content=raw, headers=headers)
    assert created.status_code == 200, created.text
    assert b'"s\\ud800s \xf0\x9f\x98\x80"' in created.content  # escaped lone surrogate, real emoji
    assert created.json()["properties"]["title"]["title"]["value"] == "s\ud800s \U0001f600"
    again = api.get("/object", id=created.json()["id"])
    assert again.json()["properties"]["title"]["title"]["value"] == "s\ud800s \U0001f600"
    search = api.http.post("/objects/search", content=b'{"query": "s\\ud800s"}', headers=headers)
    assert [r["id"] for r in search.json()["results"]] == [created.json()["id"]]
    markdown = api.get("/object/markdown", id=created.json()["id"])
    assert markdown.json()["markdown"].startswith("# s\ud800s")
    json.dumps(sandbox.state.to_json(), ensure_ascii=False).encode("utf-8")  # still storable as UTF-8
