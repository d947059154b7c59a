"""Media upload with the client against the sandbox over real HTTP: steps, the whole upload, aborts."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import httpx2
import pytest

from capacities_mcp.api import CapacitiesApiError, CapacitiesClient, CapacitiesValidationError
from capacities_mcp.sandbox import SandboxConfig, SandboxServer
from tests.helpers_faulty_proxy import FaultyProxy
from tests.sandbox.helpers import add_pdf_collection

PART = 1024
SCANS = "00000000-0000-4000-8000-00000000a001"  # a collection of PDFs


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(upload_part_size=PART, max_upload_bytes=10 * PART, rate_limit_window=0.05)
    with SandboxServer(config) as sb:
        add_pdf_collection(sb.state, SCANS, "Scans")
        yield sb


@asynccontextmanager
async def client_for(sb: SandboxServer, base_url: str | None = None) -> AsyncIterator[CapacitiesClient]:
    token = sb.mint_token(("api:read", "api:write"))
    async with CapacitiesClient(
        api_token=token, base_url=base_url or sb.base_url, backoff_base=0.01
    ) as client:
        yield client


async def test_upload_in_parts_creates_a_media_object_with_the_bytes(sandbox: SandboxServer) -> None:
    data = secrets.token_bytes(3 * PART + 17)
    seen: list[tuple[int, int]] = []

    async def on_part(done: int, total: int) -> None:
        seen.append((done, total))

    async with client_for(sandbox) as client:
        obj = await client.media.upload(
            "scan.pdf",
            data,
            title="Scanned receipt",
            collections=[SCANS],
            on_part=on_part,
        )
        assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
        assert obj.structure_id == "MediaPDF" and obj.collections == [SCANS]
        assert obj.properties["title"].model_dump()["title"]["value"] == "Scanned receipt"
        assert obj.files is not None and obj.files[0].file_type == "application/pdf"
        again = await client.object.get(obj.id)
        assert again.files == obj.files
    download = httpx2.get(obj.files[0].url)
    assert download.status_code == 200 and download.content == data
    assert httpx2.get(obj.files[0].url.split("?")[0] + "?sig=wrong").status_code == 404
    assert sandbox.runtime.media.sessions == {}


async def test_the_steps_one_by_one_and_their_checks(sandbox: SandboxServer) -> None:
    async with client_for(sandbox) as client:
        session = await client.media.start(file_name="notes.txt", file_size=PART + 5)
        assert (session.part_size, session.part_count, session.status) == (PART, 2, "pending")
        assert session.file_type == "text/plain" and session.expires_at
        with pytest.raises(CapacitiesApiError, match="Part 1 must be 1024 bytes, not 5") as short:
            await client.media.part(session.id, 1, b"short")
        assert short.value.status == 400 and short.value.maybe_applied is False
        with pytest.raises(CapacitiesApiError, match="between 1 and 2"):
            await client.media.part(session.id, 3, b"x" * 5)
        await client.media.part(session.id, 2, b"x" * 5)
        with pytest.raises(CapacitiesApiError, match=r"missing part\(s\) 1"):
            await client.media.complete(session.id)
        await client.media.part(session.id, 1, b"y" * PART)
        obj = await client.media.complete(session.id)
        assert obj.structure_id == "MediaFile"
        with pytest.raises(CapacitiesApiError) as gone:
            await client.media.complete(session.id)
        assert gone.value.status == 404
        with pytest.raises(CapacitiesValidationError):
            await client.media.part("not-a-uuid", 1, b"x")


async def test_too_large_unknown_collection_and_abort(sandbox: SandboxServer) -> None:
    async with client_for(sandbox) as client:
        with pytest.raises(CapacitiesApiError, match="limit is 10240 bytes") as large:
            await client.media.start(file_name="big.bin", file_size=10 * PART + 1)
        assert large.value.status == 413
        with pytest.raises(CapacitiesApiError, match="Unknown collection"):
            await client.media.start(
                file_name="a.png", file_size=10, collections=["00000000-0000-4000-8000-000000000001"]
            )
        session = await client.media.start(file_name="a.png", file_size=10)
        await client.media.abort(session.id)
        with pytest.raises(CapacitiesApiError) as gone:
            await client.media.part(session.id, 1, b"x" * 10)
        assert gone.value.status == 404


async def test_a_failing_part_aborts_the_session_and_nothing_was_applied(sandbox: SandboxServer) -> None:
    before = set(sandbox.state.objects)
    with FaultyProxy(sandbox.base_url, breaks=lambda method, path: path.endswith("/upload/part")) as proxy:
        proxy.fault = "503"
        async with client_for(sandbox, proxy.base_url) as client:
            with pytest.raises(CapacitiesApiError) as failed:
                await client.media.upload("photo.jpg", secrets.token_bytes(2 * PART))
    assert failed.value.status == 503 and failed.value.maybe_applied is False
    aborts = [r for r in proxy.forwarded if r.path.endswith("/upload/abort")]
    assert len(aborts) == 1
    assert sandbox.runtime.media.sessions == {} and set(sandbox.state.objects) == before
