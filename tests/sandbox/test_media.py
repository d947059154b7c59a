"""The media upload routes over raw HTTP: what the sandbox refuses, in the API's error shape."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from capacities_mcp.sandbox import SandboxConfig, SandboxServer

from .helpers import Api, error_of

PART = 512


@pytest.fixture(scope="module")
def media_api() -> Iterator[Api]:
    with SandboxServer(
        SandboxConfig(upload_part_size=PART, max_upload_bytes=4 * PART, seed=False)
    ) as sandbox:
        client = Api(sandbox.base_url, sandbox.mint_token(("api:read", "api:write")))
        yield client
        client.close()


def _put(api: Api, session: str, number: str, body: bytes) -> tuple[int, str, str]:
    response = api.http.put(
        "/object/media/upload/part", params={"id": session, "partNumber": number}, content=body
    )
    return error_of(response)


def test_start_validates_its_body(media_api: Api) -> None:
    for body, where in (
        ({"fileSize": 10}, "fileName"),
        ({"fileName": "", "fileSize": 10}, "fileName"),
        ({"fileName": "a.txt", "fileSize": 0}, "fileSize"),
        ({"fileName": "a.txt", "fileSize": "10"}, "fileSize"),
        ({"fileName": "a.txt", "fileSize": 10, "collections": ["nope"]}, "collections"),
    ):
        status, code, message = error_of(media_api.post("/object/media/upload", body))
        assert (status, code) == (400, "cap_invalid_input") and f"at {where}" in message, message
    status, code, message = error_of(
        media_api.post("/object/media/upload", {"fileName": "a", "fileSize": 4 * PART + 1})
    )
    assert (status, code) == (413, "cap_invalid_input") and "2048 bytes" in message


def test_parts_are_checked_by_number_size_and_session(media_api: Api) -> None:
    session = media_api.post("/object/media/upload", {"fileName": "a.bin", "fileSize": PART + 1}).json()
    assert session["partCount"] == 2 and session["fileType"] == "application/octet-stream"
    assert _put(media_api, session["id"], "abc", b"x")[:2] == (400, "cap_invalid_input")
    assert _put(media_api, session["id"], "0", b"x")[:2] == (400, "cap_invalid_input")
    status, _, message = _put(media_api, session["id"], "1", b"x" * (PART + 1))
    assert status == 413 and f"{PART} bytes" in message  # a part's body is bounded by the part size
    ok = media_api.http.put(
        "/object/media/upload/part", params={"id": session["id"], "partNumber": "2"}, content=b"z"
    )
    assert ok.status_code == 200 and ok.json() == {"number": 2, "size": 1}
    assert media_api.post("/object/media/upload/abort", {"id": session["id"]}).status_code == 200
    assert _put(media_api, session["id"], "1", b"x" * PART)[:2] == (404, "cap_not_found")
    assert error_of(media_api.post("/object/media/upload/abort", {"id": session["id"]}))[0] == 404
