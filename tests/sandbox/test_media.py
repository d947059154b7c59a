"""The media upload routes over raw HTTP: what the sandbox refuses, in the API's error shape."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from capacities_mcp.sandbox import SandboxConfig, SandboxServer

from .helpers import Api, add_pdf_collection, error_of

PART = 512


SCANS = "00000000-0000-4000-8000-00000000a001"  # a collection of PDFs
DRAFTS = "00000000-0000-4000-8000-00000000a002"  # a collection of pages


@pytest.fixture(scope="module")
def media_api() -> Iterator[Api]:
    with SandboxServer(
        SandboxConfig(upload_part_size=PART, max_upload_bytes=4 * PART, seed=False)
    ) as sandbox:
        _add_collections(sandbox)
        client = Api(sandbox.base_url, sandbox.mint_token(("api:read", "api:write")))
        yield client
        client.close()


def _add_collections(sandbox: SandboxServer) -> None:
    """PDFs get a collection, pages another: an upload may only use its own structure's."""
    page = sandbox.state.structure("RootPage")
    assert page is not None
    page["collections"] = [{"id": DRAFTS, "title": "Drafts"}]
    add_pdf_collection(sandbox.state, SCANS, "Scans")


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


def test_an_upload_may_only_use_its_own_structures_collections(media_api: Api) -> None:
    for name, collection, structure in (("a.pdf", DRAFTS, "MediaPDF"), ("a.png", SCANS, "MediaImage")):
        body = {"fileName": name, "fileSize": 10, "collections": [collection]}
        status, code, message = error_of(media_api.post("/object/media/upload", body))
        assert (status, code) == (400, "cap_invalid_input"), message
        assert f"does not belong to structure {structure}" in message and "at collections[0]" in message
    session = media_api.post(
        "/object/media/upload", {"fileName": "a.pdf", "fileSize": 10, "collections": [SCANS, SCANS]}
    ).json()
    part = media_api.http.put(
        "/object/media/upload/part", params={"id": session["id"], "partNumber": "1"}, content=b"%PDF-1.7 x"
    )
    assert part.status_code == 200
    done = media_api.post("/object/media/upload/complete", {"id": session["id"]}).json()
    assert (done["structureId"], done["collections"]) == ("MediaPDF", [SCANS])
