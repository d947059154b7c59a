"""The server's client builds its HTTP transport on the first request, not when a session opens."""

from __future__ import annotations

import pytest

from capacities_mcp.sandbox import SandboxConfig, SandboxServer
from capacities_mcp.server import Settings, _deferred_transport
from capacities_mcp.server._deferred_transport import DeferredTransport, deferred_transport

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def handed_out(no_proxy: None, monkeypatch: pytest.MonkeyPatch) -> list[DeferredTransport]:
    """Every transport `Settings.client_for` asks for, kept to look at."""
    made: list[DeferredTransport] = []

    def recording() -> DeferredTransport:
        made.append(DeferredTransport())
        return made[-1]

    monkeypatch.setattr(_deferred_transport, "deferred_transport", recording)
    return made


async def test_the_transport_is_built_by_the_first_request_and_then_kept(
    handed_out: list[DeferredTransport],
) -> None:
    with SandboxServer(SandboxConfig(port=0)) as sandbox:
        settings = Settings(api_token=sandbox.api_token, api_url=sandbox.base_url)
        async with settings.client_for() as client:
            [deferred] = handed_out
            assert not deferred.built
            assert (await client.space.get()).id
            assert deferred.built
            first = deferred._transport
            await client.space.structures()
            assert deferred._transport is first


async def test_a_client_that_never_sent_anything_closes_without_building_it(
    handed_out: list[DeferredTransport],
) -> None:
    client = Settings(api_token="cap-api-never-used", api_url="http://127.0.0.1:9").client_for()
    await client.aclose()
    [deferred] = handed_out
    assert not deferred.built


def test_without_a_proxy_the_transport_is_deferred(no_proxy: None) -> None:
    assert isinstance(deferred_transport(), DeferredTransport)


def test_a_configured_proxy_leaves_the_transport_to_httpx2(
    no_proxy: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx2 honours proxy variables only in transports it builds itself."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    assert deferred_transport() is None
