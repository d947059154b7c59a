"""upload_file through a real MCP client: path and base64, progress per part, limits, aborts."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from capacities_mcp.sandbox import SandboxServer
from capacities_mcp.server.tools import files
from tests.helpers_faulty_proxy import FaultyProxy
from tests.sandbox.helpers import add_pdf_collection

from .helpers import MODES, connect, error_of, running_sandbox, text_of, tool_server

PART = 1024


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with running_sandbox(upload_part_size=PART, max_upload_bytes=8 * PART) as sb:
        add_pdf_collection(sb.state, "00000000-0000-4000-8000-00000000a001", "Scans")
        yield sb


def _download(sandbox: SandboxServer, object_id: str) -> bytes:
    url = sandbox.state.objects[object_id]["files"][0]["url"]
    return httpx2.get(url).content


@pytest.mark.parametrize("mode", MODES)
async def test_base64_upload_reports_progress_per_part(sandbox: SandboxServer, mode: str) -> None:
    data = secrets.token_bytes(2 * PART + 100)
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    server, _ = tool_server(sandbox, tools=["upload_file"])
    async with connect(server, mode) as client:
        result = await client.call_tool(
            "upload_file",
            {"content": base64.b64encode(data).decode(), "filename": "photo.png", "collections": None},
            progress_callback=on_progress,
        )
    assert not result.is_error, text_of(result)
    out = result.structured_content
    assert out is not None and out["structure_id"] == "MediaImage" and out["size"] == len(data)
    assert out["title"] == "photo.png" and f"`{out['id']}`" in text_of(result)
    assert [p[:2] for p in progress] == [(1, 3), (2, 3), (3, 3)]
    assert progress[0][2] == "uploaded part 1 of 3"
    assert _download(sandbox, out["id"]) == data


async def test_local_path_with_title_and_collection_by_name(sandbox: SandboxServer, tmp_path: Path) -> None:
    source = tmp_path / "minutes.pdf"
    source.write_bytes(b"%PDF-1.7 minutes")
    server, _ = tool_server(sandbox, tools=["upload_file"])
    async with connect(server, "legacy") as client:
        result = await client.call_tool(
            "upload_file", {"path": str(source), "title": "Board minutes", "collections": ["Scans"]}
        )
    assert not result.is_error, text_of(result)
    out = result.structured_content
    assert out is not None and (out["title"], out["structure_id"]) == ("Board minutes", "MediaPDF")
    stored = sandbox.state.objects[out["id"]]
    assert len(stored["collections"]) == 1 and _download(sandbox, out["id"]) == source.read_bytes()


async def test_bad_inputs_are_refused_before_anything_is_sent(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = len(sandbox.state.objects)
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:  # sparse: the size is checked before the file is read
        handle.truncate(files.MAX_UPLOAD_BYTES + 1)
    server, _ = tool_server(sandbox, tools=["upload_file"])
    async with connect(server, "legacy") as client:

        async def refused(arguments: dict[str, object]) -> tuple[str, str]:
            result = await client.call_tool("upload_file", arguments)
            error = error_of(result)
            return error["code"], text_of(result)

        code, text = await refused({"content": "not base64!", "filename": "a.txt"})
        assert code == "invalid_arguments" and "not valid base64" in text
        code, text = await refused({"content": "aGVsbG8="})
        assert "needs a filename" in text
        code, text = await refused({"path": str(big), "content": "aGVsbG8=", "filename": "a.txt"})
        assert "exactly one of path or content" in text
        code, text = await refused({})
        assert "exactly one of path or content" in text
        code, text = await refused({"path": str(tmp_path / "missing.txt")})
        assert "No such file" in text
        code, text = await refused({"path": str(big)})
        assert code == "file_too_large" and f"{files.MAX_UPLOAD_BYTES:,}" in text
        # Paths the system refuses are the caller's input errors, not internal ones.
        for path in ("x" * 5000, "a\x00b", str(tmp_path)):
            code, text = await refused({"path": path})
            assert code == "invalid_arguments" and ("Cannot read" in text or "No such file" in text), text
            assert len(text) < 1000
        monkeypatch.setattr(files, "MAX_UPLOAD_BYTES", 10)
        code, text = await refused({"content": base64.b64encode(b"x" * 11).decode(), "filename": "a.txt"})
        assert code == "file_too_large"
    assert len(sandbox.state.objects) == before


async def test_the_apis_own_limit_comes_back_as_an_error_with_nothing_applied(sandbox: SandboxServer) -> None:
    server, _ = tool_server(sandbox, tools=["upload_file"])
    content = base64.b64encode(b"x" * (8 * PART + 1)).decode()
    async with connect(server, "legacy") as client:
        result = await client.call_tool("upload_file", {"content": content, "filename": "a.bin"})
    error = error_of(result)
    assert (error["status"], error["maybe_applied"]) == (413, False) and "8192 bytes" in text_of(result)


async def test_a_failing_part_aborts_the_upload_and_says_nothing_was_applied(sandbox: SandboxServer) -> None:
    before = set(sandbox.state.objects)
    with FaultyProxy(sandbox.base_url, breaks=lambda method, path: path.endswith("/upload/part")) as proxy:
        proxy.fault = "503"
        server, _ = tool_server(sandbox, base_url=proxy.base_url, tools=["upload_file"])
        async with connect(server, "legacy") as client:
            content = base64.b64encode(secrets.token_bytes(3 * PART)).decode()
            result = await client.call_tool("upload_file", {"content": content, "filename": "scan.pdf"})
    error = error_of(result)
    assert error["status"] == 503 and error["maybe_applied"] is False
    assert [r.path for r in proxy.forwarded][-1] == "/object/media/upload/abort"
    assert sandbox.runtime.media.sessions == {} and set(sandbox.state.objects) == before
