"""OAuth: proactive and reactive refresh, single flight, rotation, persistence hooks, failures."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs

import anyio
import httpx2
import pytest

from capacities_mcp.api import (
    PROACTIVE_REFRESH_SECONDS,
    CapacitiesApiError,
    CapacitiesClient,
    CapacitiesOAuthError,
    OAuthCredential,
    OAuthTokens,
)

from .helpers import BASE_URL, FakeApi, Sent, make_client, ok

SPACE = {"id": "ac7abb59-b1fd-4102-b549-78e5443610ac", "title": "Notes"}


def bearer(request: httpx2.Request) -> str:
    return request.headers.get("authorization", "").removeprefix("Bearer ")


def form(sent: Sent) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(sent.body.decode()).items()}


def token_json(access: str = "at-2", refresh: str | None = "rt-2", expires_in: Any = 3600) -> httpx2.Response:
    body: dict[str, Any] = {"access_token": access, "token_type": "Bearer"}
    if refresh is not None:
        body["refresh_token"] = refresh
    if expires_in is not None:
        body["expires_in"] = expires_in
    return httpx2.Response(200, json=body)


class Server:
    """A fake API that accepts exactly one access token at a time and rotates on refresh."""

    def __init__(
        self,
        valid: str = "at-2",
        *,
        rotate: list[httpx2.Response] | None = None,
        token_delay: float = 0.0,
        api_delay: float = 0.0,
    ) -> None:
        self.valid = valid
        self.token_replies = rotate if rotate is not None else [token_json()]
        self.token_delay = token_delay
        self.api_delay = api_delay
        self.events: list[str] = []
        self.api = FakeApi(handler=self.handle)

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/oauth/token":
            self.events.append("token-request")
            await anyio.sleep(self.token_delay)
            return self.token_replies.pop(0)
        token = bearer(request)
        self.events.append(f"api:{token}")
        await anyio.sleep(self.api_delay)
        if token != self.valid:
            return httpx2.Response(401, json={"code": "cap_not_authenticated", "message": "x"})
        return ok(SPACE)


def credential(expires_at: float | None = None, **kwargs: Any) -> OAuthCredential:
    return OAuthCredential(tokens=OAuthTokens("at-1", "rt-1", expires_at), client_id="client-123", **kwargs)


# --- proactive ---------------------------------------------------------------------------------


async def test_proactive_refresh_within_60_seconds_of_expiry() -> None:
    server = Server()
    before = time.time()
    async with make_client(server.api, oauth=credential(time.time() + 30)) as client:
        await client.space.get()
        tokens = client.oauth_tokens

    assert server.events == ["token-request", "api:at-2"]
    token_request = server.api.token_requests[0]
    assert token_request.method == "POST"
    assert str(token_request.request.url) == f"{BASE_URL}/oauth/token"
    assert token_request.header("content-type") == "application/x-www-form-urlencoded"
    assert form(token_request) == {
        "grant_type": "refresh_token",
        "refresh_token": "rt-1",
        "client_id": "client-123",
    }
    assert token_request.header("authorization") is None
    assert tokens is not None
    assert (tokens.access_token, tokens.refresh_token) == ("at-2", "rt-2")
    assert tokens.expires_at is not None
    assert before + 3600 <= tokens.expires_at <= time.time() + 3600


@pytest.mark.parametrize("expires_in", [PROACTIVE_REFRESH_SECONDS + 30, None])
async def test_no_refresh_when_not_near_expiry(expires_in: float | None) -> None:
    server = Server(valid="at-1")
    expires_at = None if expires_in is None else time.time() + expires_in
    async with make_client(server.api, oauth=credential(expires_at)) as client:
        await client.space.get()
    assert server.events == ["api:at-1"]


async def test_expired_token_is_refreshed_first() -> None:
    server = Server()
    async with make_client(server.api, oauth=credential(time.time() - 10)) as client:
        await client.space.get()
    assert server.events == ["token-request", "api:at-2"]


# --- reactive ----------------------------------------------------------------------------------


async def test_401_refreshes_once_and_retries_once() -> None:
    server = Server()
    async with make_client(server.api, oauth=credential()) as client:
        space = await client.space.get()
    assert space.title == "Notes"
    assert server.events == ["api:at-1", "token-request", "api:at-2"]


async def test_second_401_raises() -> None:
    server = Server(valid="never")
    async with make_client(server.api, oauth=credential()) as client:
        with pytest.raises(CapacitiesApiError) as caught:
            await client.space.get()
    assert caught.value.code == "cap_not_authenticated" and caught.value.status == 401
    assert server.events == ["api:at-1", "token-request", "api:at-2"]


async def test_401_with_personal_token_is_not_retried() -> None:
    api = FakeApi([httpx2.Response(401, json={"code": "cap_not_authenticated", "message": "m"})])
    async with make_client(api) as client:
        with pytest.raises(CapacitiesApiError) as caught:
            await client.space.get()
    assert caught.value.code == "cap_not_authenticated"
    assert len(api.sent) == 1


async def test_401_on_a_write_is_retried_after_refresh() -> None:
    # A 401 means the request was not processed, so even a create is safe to repeat.
    server = Server()

    async def handle(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/object/markdown":
            if bearer(request) != "at-2":
                return httpx2.Response(401, json={"code": "cap_not_authenticated", "message": "expired"})
            return ok(
                {
                    "id": "7d2e7f8a-4c3b-4e1d-9f0a-123456789abc",
                    "structureId": "RootPage",
                    "collections": [],
                    "properties": {},
                }
            )
        return await server.handle(request)

    server.api.handler = handle
    async with make_client(server.api, oauth=credential()) as client:
        await client.object.markdown.create(structure_id="RootPage", markdown="# x")
    posts = [s for s in server.api.api_requests if s.path == "/object/markdown"]
    assert [bearer(s.request) for s in posts] == ["at-1", "at-2"]
    assert posts[0].body == posts[1].body


# --- single flight -----------------------------------------------------------------------------


async def test_twenty_concurrent_proactive_refreshes_send_one_token_request() -> None:
    server = Server(token_delay=0.05)
    results: list[str] = []
    async with make_client(server.api, oauth=credential(time.time() + 5)) as client:

        async def one() -> None:
            results.append((await client.space.get()).title)

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(one)

    assert len(results) == 20
    assert server.events.count("token-request") == 1
    assert len(server.api.token_requests) == 1
    assert [bearer(s.request) for s in server.api.api_requests] == ["at-2"] * 20


async def test_twenty_concurrent_401s_send_one_token_request() -> None:
    server = Server(token_delay=0.05, api_delay=0.02)
    async with make_client(server.api, oauth=credential()) as client:
        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(client.space.get)
        assert client.oauth_manager is not None and client.oauth_manager.refresh_count == 1

    assert len(server.api.token_requests) == 1
    tokens = [bearer(s.request) for s in server.api.api_requests]
    assert sorted(tokens) == ["at-1"] * 20 + ["at-2"] * 20


async def test_late_401_after_someone_else_refreshed_just_retries() -> None:
    refreshed = anyio.Event()
    server = Server()

    async def handle(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/oauth/token":
            response = await server.handle(request)
            return response
        token = bearer(request)
        is_b = request.url.params.get("id") == "00000000-0000-4000-8000-000000000002"
        if is_b and token == "at-1":
            # B's answer is slow: its 401 arrives after A has refreshed.
            await refreshed.wait()
        server.events.append(f"api:{token}")
        if token != "at-2":
            return httpx2.Response(401, json={"code": "cap_not_authenticated", "message": "x"})
        return ok(
            {"id": request.url.params["id"], "structureId": "RootPage", "collections": [], "properties": {}}
        )

    async def on_refreshed(tokens: OAuthTokens) -> None:
        refreshed.set()

    server.api.handler = handle
    async with (
        make_client(server.api, oauth=credential(on_token_refreshed=on_refreshed)) as c,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(c.object.get, "00000000-0000-4000-8000-000000000001")
        tg.start_soon(c.object.get, "00000000-0000-4000-8000-000000000002")

    assert len(server.api.token_requests) == 1
    b_requests = [bearer(s.request) for s in server.api.api_requests if s.query["id"].endswith("2")]
    assert b_requests == ["at-1", "at-2"]


# --- rotation and the persistence callback -----------------------------------------------------


async def test_a_refresh_whose_caller_is_cancelled_keeps_and_persists_the_new_tokens() -> None:
    """The old refresh token dies when the token request arrives. A caller cancelled while the
    answer is on its way (a server shutting down mid-crawl, an MCP call the client cancelled)
    must not drop the new set: the next refresh would spend the dead token, and a provider
    with reuse detection then revokes the whole grant (every process signed in with it)."""
    server = Server(rotate=[token_json("at-2", "rt-2")])
    arrived, release = anyio.Event(), anyio.Event()
    persisted: list[OAuthTokens] = []

    async def handle(request: httpx2.Request) -> httpx2.Response:
        response = await server.handle(request)
        if request.url.path == "/oauth/token":  # rotated at the provider; the answer is late
            arrived.set()
            await release.wait()
        return response

    async def persist(tokens: OAuthTokens) -> None:
        await anyio.sleep(0)  # a checkpoint, as a real write off the event loop has
        persisted.append(tokens)

    server.api.handler = handle
    async with make_client(server.api, oauth=credential(on_token_refreshed=persist)) as client:
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.space.get)  # 401 with at-1, then the refresh
            await arrived.wait()
            tg.cancel_scope.cancel()  # the caller goes away
            release.set()
        assert [t.refresh_token for t in persisted] == ["rt-2"]
        assert client.oauth_tokens is not None and client.oauth_tokens.refresh_token == "rt-2"
        await client.space.get()  # at-2 works: no second refresh, no dead rt-1 spent
    assert [form(s)["refresh_token"] for s in server.api.token_requests] == ["rt-1"]
    assert server.events[-1] == "api:at-2"


async def test_rotation_new_refresh_token_replaces_old_and_is_used_next() -> None:
    server = Server(rotate=[token_json("at-2", "rt-2"), token_json("at-3", "rt-3")])
    async with make_client(server.api, oauth=credential()) as client:
        await client.space.get()
        server.valid = "at-3"  # at-2 is now revoked: the next call refreshes again
        await client.space.get()
        assert client.oauth_tokens is not None
        assert client.oauth_tokens.refresh_token == "rt-3"
    assert [form(s)["refresh_token"] for s in server.api.token_requests] == ["rt-1", "rt-2"]


async def test_old_refresh_token_kept_when_none_returned() -> None:
    server = Server(rotate=[token_json("at-2", None, None), token_json("at-3", None)])
    async with make_client(server.api, oauth=credential()) as client:
        await client.space.get()
        tokens = client.oauth_tokens
        assert tokens is not None
        assert (tokens.access_token, tokens.refresh_token, tokens.expires_at) == (
            "at-2",
            "rt-1",
            None,
        )
        server.valid = "at-3"
        await client.space.get()
    assert [form(s)["refresh_token"] for s in server.api.token_requests] == ["rt-1", "rt-1"]


async def test_on_token_refreshed_is_awaited_before_the_new_token_is_used() -> None:
    server = Server()
    received: list[OAuthTokens] = []

    async def on_refreshed(tokens: OAuthTokens) -> None:
        server.events.append("persist-start")
        await anyio.sleep(0.05)  # a slow disk: nobody may use the tokens before this returns
        received.append(tokens)
        server.events.append("persist-done")

    async with make_client(server.api, oauth=credential(on_token_refreshed=on_refreshed)) as c:
        await c.space.get()
        assert c.oauth_tokens == received[0]

    assert server.events == ["api:at-1", "token-request", "persist-start", "persist-done", "api:at-2"]
    new = received[0]
    assert (new.access_token, new.refresh_token) == ("at-2", "rt-2")
    assert new.expires_at is not None and abs(new.expires_at - (time.time() + 3600)) < 5


async def test_concurrent_callers_wait_for_the_callback_too() -> None:
    server = Server()
    persisted = anyio.Event()

    async def on_refreshed(tokens: OAuthTokens) -> None:
        await anyio.sleep(0.05)
        server.events.append("persisted")
        persisted.set()

    cred = credential(time.time(), on_token_refreshed=on_refreshed)
    async with make_client(server.api, oauth=cred) as c, anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(c.space.get)
    first_use = server.events.index("api:at-2")
    assert server.events.index("persisted") < first_use
    assert server.events.count("token-request") == 1


async def test_callback_failure_surfaces_and_new_token_is_not_used() -> None:
    server = Server()

    async def on_refreshed(tokens: OAuthTokens) -> None:
        raise OSError("disk full")

    async with make_client(server.api, oauth=credential(on_token_refreshed=on_refreshed)) as c:
        with pytest.raises(OSError, match="disk full"):
            await c.space.get()
        assert c.oauth_tokens == OAuthTokens("at-1", "rt-1", None)
    assert "api:at-2" not in server.events
    assert server.events == ["api:at-1", "token-request"]


def test_oauth_tokens_is_none_for_a_personal_token() -> None:
    assert CapacitiesClient(api_token="cap-api-x").oauth_tokens is None


async def test_oauth_tokens_reflects_the_initial_set() -> None:
    cred = credential(123.0)
    async with make_client(FakeApi(), oauth=cred) as client:
        assert client.oauth_tokens == OAuthTokens("at-1", "rt-1", 123.0)


# --- cross-process hooks -----------------------------------------------------------------------


def lock_spy(log: list[str]) -> Callable[[], Any]:
    @asynccontextmanager
    async def lock() -> AsyncIterator[None]:
        log.append("lock")
        yield
        log.append("unlock")

    return lock


async def test_tokens_rotated_by_another_process_are_adopted_without_a_token_request() -> None:
    server = Server(valid="at-other")
    log: list[str] = []
    persisted: list[OAuthTokens] = []

    async def load() -> OAuthTokens:
        log.append("load")
        return OAuthTokens("at-other", "rt-other", time.time() + 3600)

    async def on_refreshed(tokens: OAuthTokens) -> None:
        persisted.append(tokens)

    cred = credential(
        time.time() + 10, refresh_lock=lock_spy(log), load_tokens=load, on_token_refreshed=on_refreshed
    )
    async with make_client(server.api, oauth=cred) as client:
        await client.space.get()
        assert client.oauth_tokens is not None
        assert client.oauth_tokens.refresh_token == "rt-other"
    assert server.api.token_requests == []
    assert server.events == ["api:at-other"]
    assert log == ["lock", "load", "unlock"]
    assert persisted == []  # nothing new to persist


async def test_load_tokens_without_news_refreshes_under_the_lock() -> None:
    server = Server()
    log: list[str] = []

    async def load() -> OAuthTokens:
        log.append("load")
        return OAuthTokens("at-1", "rt-1", None)  # same set: nobody rotated it

    async def on_refreshed(tokens: OAuthTokens) -> None:
        log.append("persist")

    async def handle(request: httpx2.Request) -> httpx2.Response:
        if request.url.path == "/oauth/token":
            log.append("token-request")
        return await server.handle(request)

    server.api.handler = handle
    cred = credential(refresh_lock=lock_spy(log), load_tokens=load, on_token_refreshed=on_refreshed)
    async with make_client(server.api, oauth=cred) as client:
        await client.space.get()
    assert log == ["lock", "load", "token-request", "persist", "unlock"]


async def test_adopted_tokens_near_expiry_are_refreshed_with_the_adopted_refresh_token() -> None:
    server = Server()

    async def load() -> OAuthTokens:
        return OAuthTokens("at-other", "rt-other", time.time() + 5)

    async with make_client(server.api, oauth=credential(time.time(), load_tokens=load)) as c:
        await c.space.get()
    assert [form(s)["refresh_token"] for s in server.api.token_requests] == ["rt-other"]
    assert server.events[-1] == "api:at-2"


# --- refresh failures --------------------------------------------------------------------------


def _network_error(request: httpx2.Request) -> BaseException:
    return httpx2.ConnectError("refused", request=request)


@pytest.mark.parametrize(
    ("reply", "fragment", "status"),
    [
        (_network_error, "network error", None),
        (
            httpx2.Response(
                400, json={"error": "invalid_grant", "error_description": "Refresh token already used"}
            ),
            "status 400: invalid_grant",
            400,
        ),
        (httpx2.Response(500, text="<html>oops</html>"), "status 500", 500),
        (httpx2.Response(200, text="{nope"), "invalid JSON", None),
        (
            httpx2.Response(200, json={"token_type": "Bearer", "expires_in": 3600}),
            "missing access_token",
            None,
        ),
        (httpx2.Response(200, json={"access_token": ""}), "missing access_token", None),
    ],
    ids=["network", "400 invalid_grant", "500 html", "invalid json", "no access_token", "empty access_token"],
)
async def test_refresh_failures_raise_oauth_error(reply: Any, fragment: str, status: int | None) -> None:
    api = FakeApi([httpx2.Response(401), reply])
    async with make_client(api, oauth=credential()) as client:
        with pytest.raises(CapacitiesOAuthError) as caught:
            await client.space.get()
        assert client.oauth_tokens == OAuthTokens("at-1", "rt-1", None)
    err = caught.value
    assert fragment in str(err)
    assert err.status == status
    assert len(api.api_requests) == 1  # nothing retried with a token we do not have


async def test_proactive_refresh_failure_sends_no_api_request() -> None:
    api = FakeApi([httpx2.Response(400, json={"error": "invalid_grant"})])
    async with make_client(api, oauth=credential(time.time())) as client:
        with pytest.raises(CapacitiesOAuthError) as caught:
            await client.space.get()
    assert caught.value.error == "invalid_grant"
    assert api.api_requests == []
