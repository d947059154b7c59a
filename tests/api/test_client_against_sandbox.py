"""Every client operation over real HTTP against the local sandbox API."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import anyio
import httpx2
import pytest

from capacities_mcp.api import (
    CapacitiesApiError,
    CapacitiesClient,
    CapacitiesConnectionError,
    CapacitiesValidationError,
    OAuthCredential,
    OAuthTokens,
)
from capacities_mcp.api.models import (
    ApiObject,
    CodeBlock,
    TextBlock,
    TextToken,
    TitleProperty,
)
from capacities_mcp.sandbox import ADMIN_TOKEN_HEADER, SandboxConfig, SandboxServer


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig(port=0, auto_approve=True)) as sb:
        yield sb


@asynccontextmanager
async def client_for(
    sb: SandboxServer, scopes: tuple[str, ...] = ("api:read", "api:write"), **options: Any
) -> AsyncIterator[CapacitiesClient]:
    """A client with a token of its own, so that each test has its own rate-limit windows."""
    options.setdefault("backoff_base", 0.01)
    token = sb.mint_token(scopes=scopes)
    async with CapacitiesClient(api_token=token, base_url=sb.base_url, **options) as client:
        yield client


def title(value: str) -> dict[str, Any]:
    return {"type": "title", "title": {"value": value}}


def text_block(text: str) -> dict[str, Any]:
    return {"type": "TextBlock", "tokens": [{"type": "TextToken", "text": text}]}


def title_of(obj: ApiObject) -> str | None:
    prop = obj.properties["title"]
    assert isinstance(prop, TitleProperty)
    return prop.title.value


def texts(obj: ApiObject, prop: str = "content") -> list[str]:
    assert obj.blocks is not None
    out: list[str] = []
    for block in obj.blocks[prop]:
        if isinstance(block, TextBlock):
            out.append("".join(t.text for t in block.tokens if isinstance(t, TextToken)))
    return out


async def expect_error(code: str, awaitable: Any) -> CapacitiesApiError:
    with pytest.raises(CapacitiesApiError) as caught:
        await awaitable
    assert caught.value.code == code, caught.value
    return caught.value


async def test_object_lifecycle(sandbox: SandboxServer) -> None:
    async with client_for(sandbox) as c:
        space = await c.space.get()
        assert space.title
        structures = await c.space.structures()
        assert "RootPage" in {s.id for s in structures.structures}

        # create -> get
        created = await c.object.create(
            structure_id="RootPage",
            properties={"title": title("Lifecycle test page")},
            blocks={"content": [text_block("first paragraph")]},
        )
        assert title_of(created) == "Lifecycle test page"
        assert created.blocks is not None
        first_id = created.blocks["content"][0].id
        got = await c.object.get(created.id)
        assert got.id == created.id and texts(got) == ["first paragraph"]

        # update
        updated = await c.object.update(id=created.id, properties={"title": title("Lifecycle renamed")})
        assert title_of(updated) == "Lifecycle renamed"

        # append: markdown at the end, blocks at the start
        appended = await c.blocks.append(id=created.id, markdown="## Section\n\n- one\n- two")
        assert texts(appended) == ["first paragraph", "Section", "one", "two"]
        appended = await c.blocks.append(
            id=created.id,
            blocks=[{"type": "CodeBlock", "lang": "py", "text": "print(1)"}],
            position={"type": "start"},
        )
        assert appended.blocks is not None
        assert isinstance(appended.blocks["content"][0], CodeBlock)
        heading_id = appended.blocks["content"][2].id
        assert heading_id is not None

        # block update keeps the id; block delete removes it
        edited = await c.blocks.block.update(
            id=created.id, block_id=first_id, block=text_block("first, edited")
        )
        assert edited.blocks is not None
        assert [b.id for b in edited.blocks["content"]].count(first_id) == 1
        assert "first, edited" in texts(edited)
        after_delete = await c.blocks.block.delete(created.id, heading_id)
        assert after_delete.blocks is not None
        assert heading_id not in [b.id for b in after_delete.blocks["content"]]

        # markdown export
        exported = await c.object.markdown.get(created.id)
        assert exported.id == created.id
        assert "Lifecycle renamed" in exported.markdown
        assert "first, edited" in exported.markdown and "- one" in exported.markdown
        assert "Section" not in exported.markdown and "print(1)" in exported.markdown

        # search and listing
        hits = await c.objects.search(query="  Lifecycle renamed ", structure_ids=["RootPage"], limit=5)
        assert created.id in [h.id for h in hits.results]
        first_page = await c.objects.structure("RootPage", page_size=2)
        assert len(first_page.results) == 2 and first_page.has_more and first_page.next_cursor
        listed = [s async for s in c.objects.iterate("structure", "RootPage", page_size=2)]
        ids = [s.id for s in listed]
        assert created.id in ids and len(ids) == len(set(ids)) > 2

        # trash -> restore
        await c.object.update(id=created.id, delete_requested=True)
        await expect_error("cap_not_found", c.object.get(created.id))
        await c.object.update(id=created.id, delete_requested=False)
        assert (await c.object.get(created.id)).id == created.id

        # delete (trash), then for good
        await c.object.delete(created.id)
        await expect_error("cap_not_found", c.object.get(created.id))
        await c.object.delete(created.id, hard_delete=True)
        await expect_error("cap_not_found", c.object.update(id=created.id, delete_requested=False))


async def test_markdown_url_and_daily_note(sandbox: SandboxServer) -> None:
    async with client_for(sandbox) as c:
        page = await c.object.markdown.create(
            structure_id="RootPage", markdown="# From markdown\n\nbody text"
        )
        assert title_of(page) == "From markdown"
        renamed = await c.object.markdown.update(
            id=page.id, markdown="---\ntitle: Renamed by front matter\n---\nignored"
        )
        assert title_of(renamed) == "Renamed by front matter"
        assert "body text" in (await c.object.markdown.get(page.id)).markdown

        weblink = await c.object.create_from_url(
            url="https://example.com/article",
            properties={"title": title("An article")},
            markdown="my notes on it",
        )
        assert weblink.structure_id == "MediaWebResource"
        assert title_of(weblink) == "An article"
        assert "my notes on it" in (await c.object.markdown.get(weblink.id)).markdown

        marker = f"daily idea {secrets.token_hex(4)}"
        await c.blocks.daily_note.append(markdown=f"- {marker}", no_time_stamp=True)
        found = False
        for _ in range(40):  # processed asynchronously
            async for note in c.objects.iterate("structure", "RootDailyNote"):
                if marker in (await c.object.markdown.get(note.id)).markdown:
                    found = True
            if found:
                break
            await anyio.sleep(0.05)
        assert found


async def test_scope_errors_name_missing_scopes(sandbox: SandboxServer) -> None:
    async with client_for(sandbox, scopes=("api:read",)) as reader:
        assert (await reader.space.get()).title
        error = await expect_error("cap_scope_insufficient", reader.object.create(structure_id="RootPage"))
        assert error.status == 403 and error.missing_scopes == ["api:write"]
    async with client_for(sandbox, scopes=("api:write",)) as writer:
        error = await expect_error("cap_scope_insufficient", writer.space.get())
        assert error.missing_scopes == ["api:read"]


async def test_bad_version_and_bad_token(sandbox: SandboxServer) -> None:
    async with client_for(sandbox, api_version="one") as c:
        error = await expect_error("cap_invalid_input", c.space.get())
        assert error.status == 400
    async with client_for(sandbox, api_version="0.0.1") as c:
        error = await expect_error("cap_invalid_input", c.space.get())
        assert "1.0.0" in error.message
    async with CapacitiesClient(api_token="cap-api-unknown", base_url=sandbox.base_url) as c:
        error = await expect_error("cap_not_authenticated", c.space.get())
        assert error.status == 401
    token = sandbox.mint_token(scopes=("api:read",))
    sandbox.revoke_token(token)
    async with CapacitiesClient(api_token=token, base_url=sandbox.base_url) as c:
        await expect_error("cap_not_authenticated", c.space.get())


async def test_not_found_ids(sandbox: SandboxServer) -> None:
    missing = "7d2e7f8a-4c3b-4e1d-9f0a-123456789abc"
    async with client_for(sandbox) as c:
        await expect_error("cap_not_found", c.object.get(missing))
        await expect_error("cap_not_found", c.object.markdown.get(missing))
        page = await c.object.create(structure_id="RootPage", properties={"title": title("x")})
        await expect_error("cap_not_found", c.blocks.block.delete(page.id, missing))


async def test_client_and_sandbox_reject_the_same_input_the_same_way(
    sandbox: SandboxServer,
) -> None:
    token = sandbox.mint_token(scopes=("api:read", "api:write"))
    body = {"query": "x", "limit": 51}
    async with CapacitiesClient(api_token=token, base_url=sandbox.base_url) as c:
        with pytest.raises(CapacitiesValidationError) as ours:
            await c.objects.search(body)
    async with httpx2.AsyncClient() as raw:
        response = await raw.post(
            f"{sandbox.base_url}/objects/search", json=body, headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 400
    theirs = CapacitiesApiError.from_response(400, response.text)
    assert theirs.code == ours.value.code == "cap_invalid_input"
    our_lines = str(ours.value).splitlines()[1:]
    assert our_lines == theirs.message.splitlines()


async def test_rate_limit_waits_instead_of_failing() -> None:
    with SandboxServer(SandboxConfig(port=0, rate_limit_window=0.4)) as sb:
        async with client_for(sb, max_rate_limit_wait=5) as c:
            started = time.monotonic()
            for _ in range(11):  # GET /space allows 10 per window
                await c.space.get()
            assert time.monotonic() - started >= 0.1  # waited for the window to reset


async def test_a_used_up_quota_fails_at_once_when_waiting_is_not_allowed() -> None:
    # A window no run outlasts: the 11th request always falls in the first window (on a 0.4 s
    # window, ten requests slower than 0.4 s opened a second one, and the 11th went through).
    with SandboxServer(SandboxConfig(port=0, rate_limit_window=60.0)) as sb:
        async with client_for(sb, max_rate_limit_wait=0.0) as c:
            for _ in range(10):
                await c.space.get()
            error = await expect_error("cap_rate_limit_exceeded", c.space.get())
            # The sandbox, like the real API, reports `reset` in whole seconds.
            assert error.retry_after is not None and 0 < error.retry_after <= 60.0
            # Other routes have their own quota.
            assert (await c.space.structures()).structures


async def test_faults(sandbox: SandboxServer) -> None:
    try:
        sandbox.faults.update({"status": 500})  # (503 carries Retry-After: 1, which is honoured)
        async with client_for(sandbox, max_retries=1) as c:
            await expect_error("cap_server_error", c.space.get())
            await expect_error("cap_server_error", c.object.create(structure_id="RootPage"))
        sandbox.faults.update({"html_429": True}, reset=True)
        async with client_for(sandbox, max_rate_limit_wait=0.0) as c:
            error = await expect_error("cap_rate_limit_exceeded", c.space.get())
            assert "1015" in error.message
        sandbox.faults.update({"drop_connection": True}, reset=True)
        async with client_for(sandbox, max_retries=1) as c:
            with pytest.raises(CapacitiesConnectionError) as caught:
                await c.object.create(structure_id="RootPage")
            assert caught.value.maybe_applied is True
            with pytest.raises(CapacitiesConnectionError) as caught:
                await c.object.get("7d2e7f8a-4c3b-4e1d-9f0a-123456789abc")
            assert caught.value.maybe_applied is False
    finally:
        sandbox.faults.reset()


# --- OAuth against the sandbox's provider ------------------------------------------------------


async def _oauth_tokens(sb: SandboxServer) -> OAuthTokens:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
    redirect_uri = "http://127.0.0.1:9/callback"
    # The admin token: with auto_approve, only requests carrying it skip the consent page.
    admin = {ADMIN_TOKEN_HEADER: sb.admin_token}
    async with httpx2.AsyncClient(base_url=sb.base_url) as http:
        authorize = await http.get(
            "/oauth/authorize",
            headers=admin,
            params={
                "response_type": "code",
                "client_id": sb.oauth_client_id,
                "redirect_uri": redirect_uri,
                "scope": "api:read api:write offline_access",
                "resource": sb.base_url,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "state": "s",
            },
        )
        assert authorize.status_code in (302, 303, 307), authorize.text
        code = parse_qs(urlsplit(authorize.headers["location"]).query)["code"][0]
        token = await http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": sb.oauth_client_id,
                "code_verifier": verifier,
            },
        )
        assert token.status_code == 200, token.text
        data = token.json()
    expires_at = time.time() + data["expires_in"]
    return OAuthTokens(data["access_token"], data["refresh_token"], expires_at)


async def test_oauth_refresh_single_flight_and_rotation(sandbox: SandboxServer) -> None:
    initial = await _oauth_tokens(sandbox)
    persisted: list[OAuthTokens] = []

    async def on_refreshed(tokens: OAuthTokens) -> None:
        persisted.append(tokens)

    # Pretend the access token is about to expire: every request below needs a refresh first.
    # The sandbox revokes the whole grant if a rotated refresh token is used twice, so a
    # second refresh would make the requests fail.
    oauth = OAuthCredential(
        tokens=OAuthTokens(initial.access_token, initial.refresh_token, time.time() + 10),
        client_id=sandbox.oauth_client_id,
        on_token_refreshed=on_refreshed,
    )
    async with CapacitiesClient(oauth=oauth, base_url=sandbox.base_url) as c:
        titles: list[str] = []

        async def one() -> None:
            hits = await c.objects.search(query="a")
            titles.append(str(len(hits.results)))

        async with anyio.create_task_group() as tg:
            for _ in range(20):
                tg.start_soon(one)
        assert len(titles) == 20
        assert len(persisted) == 1
        current = c.oauth_tokens
        assert current == persisted[0]
        assert current is not None and current.refresh_token != initial.refresh_token

        # Reactive: the sandbox now treats access tokens as expired -> 401 -> refresh -> retry.
        sandbox.faults.update({"expire_tokens": True})
        try:
            with pytest.raises(CapacitiesApiError) as caught:
                await c.space.get()
            # The refreshed token is expired too (the switch is global): the second 401 raises.
            assert caught.value.code == "cap_not_authenticated"
            assert len(persisted) == 2
        finally:
            sandbox.faults.reset()
        assert (await c.space.get()).title
        assert len(persisted) == 2
