"""Block routes and daily notes over real HTTP: positions, nesting, in-place edits, deletes."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from capacities_mcp.sandbox import SandboxConfig, SandboxServer

from .helpers import BOOK, BOOK_NOTES, IDS, Api, assert_conforms, error_of, fixture_store

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _text(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "tokens": [{"type": "TextToken", "text": text, "style": {}}], **extra}


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    return ["".join(t["text"] for t in b.get("tokens", [])) for b in blocks]


def _page(api: Api, *paragraphs: str) -> dict[str, Any]:
    body = {
        "structureId": "RootPage",
        "properties": {"title": {"type": "title", "title": {"value": "Blocks"}}},
        "blocks": {"content": [_text(p) for p in paragraphs]},
    }
    response = api.post("/object", body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_append_end_start_and_after_block(api: Api) -> None:
    page = _page(api, "one", "two")
    first_id = page["blocks"]["content"][0]["id"]
    response = api.post("/blocks/append", {"id": page["id"], "blocks": [_text("three")]})
    assert response.status_code == 200
    assert_conforms("POST", "/blocks/append", response.json())
    assert _texts(response.json()["blocks"]["content"]) == ["one", "two", "three"]
    start = api.post(
        "/blocks/append", {"id": page["id"], "position": {"type": "start"}, "blocks": [_text("zero")]}
    )
    assert _texts(start.json()["blocks"]["content"]) == ["zero", "one", "two", "three"]
    after = api.post(
        "/blocks/append",
        {
            "id": page["id"],
            "blocks": [_text("one-and-a-half"), _text("one-and-3/4")],
            "position": {"type": "after_block", "after_block": {"id": first_id}},
        },
    )
    assert _texts(after.json()["blocks"]["content"]) == [
        "zero",
        "one",
        "one-and-a-half",
        "one-and-3/4",
        "two",
        "three",
    ]
    # Every block id is a fresh uuid4, and reading back gives the same tree.
    blocks = api.get("/object", id=page["id"]).json()["blocks"]["content"]
    assert blocks == after.json()["blocks"]["content"]
    assert all(UUID4.match(b["id"]) for b in blocks) and len({b["id"] for b in blocks}) == 6


def test_date_links_read_back_as_days(api: Api) -> None:
    """capacities-api.md §6.5: a LinkToken `date` defaults to day resolution, and day dates are
    read as UTC midnight (§6.3), as property dates are; time dates stay as written."""
    page = _page(api, "dated")
    tokens = [
        {"type": "LinkToken", "text": "day", "date": {"start": "2026-08-01T15:30:00+02:00"}},
        {"type": "LinkToken", "text": "bare", "date": {"start": "2026-08-02", "end": "2026-08-03"}},
        {
            "type": "LinkToken",
            "text": "time",
            "date": {"dateResolution": "time", "start": "2026-08-04T09:15:00.000Z"},
        },
    ]
    response = api.post(
        "/blocks/append", {"id": page["id"], "blocks": [{"type": "TextBlock", "tokens": tokens}]}
    )
    assert response.status_code == 200, response.text
    assert_conforms("POST", "/blocks/append", response.json())
    dates = [t["date"] for t in response.json()["blocks"]["content"][-1]["tokens"]]
    assert dates == [
        {"dateResolution": "day", "start": "2026-08-01T00:00:00.000Z", "end": None},
        {"dateResolution": "day", "start": "2026-08-02T00:00:00.000Z", "end": "2026-08-03T00:00:00.000Z"},
        {"dateResolution": "time", "start": "2026-08-04T09:15:00.000Z", "end": None},
    ]


def test_append_nested_and_markdown(api: Api) -> None:
    page = _page(api, "parent")
    parent_id = page["blocks"]["content"][0]["id"]
    nested = api.post(
        "/blocks/append",
        {
            "id": page["id"],
            "parentBlockId": parent_id,
            "blocks": [_text("child", blocks=[_text("grandchild")])],
        },
    )
    [parent] = nested.json()["blocks"]["content"]
    assert _texts(parent["blocks"]) == ["child"]
    child = parent["blocks"][0]
    assert _texts(child["blocks"]) == ["grandchild"]
    assert len({parent["id"], child["id"], child["blocks"][0]["id"]}) == 3
    first = api.post(
        "/blocks/append",
        {
            "id": page["id"],
            "parentBlockId": parent_id,
            "position": {"type": "start"},
            "blocks": [_text("first child")],
        },
    )
    assert _texts(first.json()["blocks"]["content"][0]["blocks"]) == ["first child", "child"]
    md = api.post("/blocks/append", {"id": page["id"], "markdown": "## Section\n\n```py\nx = 1\n```\n\n---"})
    assert md.status_code == 200, md.text
    tail = md.json()["blocks"]["content"][1:]
    assert [b["type"] for b in tail] == ["TextBlock", "CodeBlock", "HorizontalLineBlock"]
    assert tail[0]["hierarchy"] == {"key": "H2", "val": 2}
    assert tail[1]["lang"] == "py" and tail[1]["text"] == "x = 1"


def test_append_to_named_block_property(api: Api) -> None:
    response = api.post(
        "/blocks/append", {"id": IDS["dune"], "propertyId": BOOK_NOTES, "markdown": "More sand."}
    )
    assert response.status_code == 200
    assert _texts(response.json()["blocks"][BOOK_NOTES])[-1] == "More sand."
    status, _, message = error_of(
        api.post("/blocks/append", {"id": IDS["dune"], "propertyId": "nope", "markdown": "x"})
    )
    assert status == 400 and "→ at propertyId" in message


def test_append_errors(api: Api) -> None:
    page = _page(api, "one")
    block_id = page["blocks"]["content"][0]["id"]
    code = api.post(
        "/blocks/append", {"id": page["id"], "blocks": [{"type": "CodeBlock", "lang": "", "text": "x"}]}
    )
    code_id = code.json()["blocks"]["content"][-1]["id"]
    missing_block = "7d2e7f8a-4c3b-4e1d-9f0a-123456789abc"
    cases: list[tuple[dict[str, Any], int, str]] = [
        (
            {"id": page["id"], "blocks": [_text("x")], "markdown": "x"},
            400,
            "Provide exactly one of `blocks` or `markdown`.",
        ),
        ({"id": page["id"]}, 400, "Provide exactly one of `blocks` or `markdown`."),
        ({"id": page["id"], "blocks": []}, 400, "→ at blocks"),
        (
            {
                "id": page["id"],
                "markdown": "x",
                "parentBlockId": block_id,
                "position": {"type": "after_block", "after_block": {"id": block_id}},
            },
            400,
            "parentBlockId",
        ),
        ({"id": page["id"], "markdown": "x", "parentBlockId": code_id}, 400, "only TextBlock and GroupBlock"),
        ({"id": page["id"], "markdown": "x", "parentBlockId": missing_block}, 404, "not found"),
        (
            {
                "id": page["id"],
                "markdown": "x",
                "position": {"type": "after_block", "after_block": {"id": missing_block}},
            },
            404,
            "not found",
        ),
        ({"id": page["id"], "markdown": "x", "position": {"type": "middle"}}, 400, "→ at position"),
        ({"id": "7d2e7f8a-4c3b-4e1d-9f0a-123456789abd", "markdown": "x"}, 404, "not found"),
        (
            {"id": page["id"], "blocks": [{"type": "GridBlock", "dividers": [], "columns": [[]]}]},
            400,
            "GridBlock must include at least two columns.",
        ),
        (
            {
                "id": page["id"],
                "blocks": [{"type": "EntityBlock", "entityId": None, "date": {"start": None}}],
            },
            400,
            "EntityBlock does not accept `date`",
        ),
        ({"id": page["id"], "markdown": "x" * 200_001}, 400, "→ at markdown"),
    ]
    for body, status, fragment in cases:
        got_status, got_code, message = error_of(api.post("/blocks/append", body))
        assert (got_status, fragment in message) == (status, True), (body, message)
        assert got_code == ("cap_not_found" if status == 404 else "cap_invalid_input")


def test_update_block_keeps_id_and_children(api: Api) -> None:
    page = _page(api, "before")
    block = page["blocks"]["content"][0]
    with_child = api.post(
        "/blocks/append", {"id": page["id"], "parentBlockId": block["id"], "blocks": [_text("kid")]}
    )
    child_id = with_child.json()["blocks"]["content"][0]["blocks"][0]["id"]
    response = api.patch(
        "/blocks/block",
        {
            "id": page["id"],
            "blockId": block["id"],
            "block": _text("after", hierarchy={"key": "H1", "val": 1}),
        },
    )
    assert response.status_code == 200, response.text
    assert_conforms("PATCH", "/blocks/block", response.json())
    [updated] = response.json()["blocks"]["content"]
    assert updated["id"] == block["id"] and _texts([updated]) == ["after"]
    assert updated["hierarchy"] == {"key": "H1", "val": 1}
    assert [c["id"] for c in updated["blocks"]] == [child_id]  # `blocks` omitted: children kept
    replaced = api.patch(
        "/blocks/block",
        {
            "id": page["id"],
            "blockId": block["id"],
            "propertyId": "content",
            "block": _text("again", blocks=[]),
        },
    )
    assert replaced.json()["blocks"]["content"][0]["blocks"] == []
    nested = api.patch(
        "/blocks/block",
        {"id": page["id"], "blockId": block["id"], "block": _text("tree", blocks=[_text("new kid")])},
    )
    new_kid = nested.json()["blocks"]["content"][0]["blocks"][0]
    assert new_kid["id"] != child_id and UUID4.match(new_kid["id"])


def test_update_block_errors(api: Api) -> None:
    page = _page(api, "x")
    block_id = page["blocks"]["content"][0]["id"]
    status, _, message = error_of(
        api.patch(
            "/blocks/block",
            {"id": page["id"], "blockId": block_id, "block": {"type": "CodeBlock", "lang": "", "text": ""}},
        )
    )
    assert status == 400 and "same type" in message and "→ at block.type" in message
    assert (
        error_of(api.patch("/blocks/block", {"id": page["id"], "blockId": "nope", "block": _text("y")}))[0]
        == 404
    )
    assert (
        error_of(api.patch("/blocks/block", {"id": page["id"], "blockId": "", "block": _text("y")}))[0] == 400
    )
    assert (
        error_of(
            api.patch(
                "/blocks/block",
                {"id": page["id"], "blockId": block_id, "propertyId": "zzz", "block": _text("y")},
            )
        )[0]
        == 400
    )


def test_delete_block_removes_subtree(api: Api) -> None:
    page = _page(api, "keep", "drop")
    drop_id = page["blocks"]["content"][1]["id"]
    api.post("/blocks/append", {"id": page["id"], "parentBlockId": drop_id, "blocks": [_text("child")]})
    response = api.delete("/block", objectId=page["id"], blockId=drop_id)
    assert response.status_code == 200
    assert_conforms("DELETE", "/block", response.json())
    assert _texts(response.json()["blocks"]["content"]) == ["keep"]
    assert "child" not in str(api.get("/object", id=page["id"]).json())
    assert error_of(api.delete("/block", objectId=page["id"], blockId=drop_id))[:2] == (404, "cap_not_found")
    assert error_of(api.delete("/block", objectId=page["id"], blockId="not-a-uuid"))[0] == 400


def _daily_note(sandbox: SandboxServer, day: str) -> dict[str, Any] | None:
    with sandbox.state.lock:
        return next(
            (
                o
                for o in sandbox.state.live_objects()
                if o["structureId"] == "RootDailyNote" and sandbox.state.title_of(o) == f"{day}T00:00:00.000Z"
            ),
            None,
        )


def test_daily_note_append_creates_note_with_time_heading(api: Api, sandbox: SandboxServer) -> None:
    assert _daily_note(sandbox, "2031-01-02") is None
    response = api.post(
        "/blocks/daily-note/append", {"date": "2031-01-02T00:00:00.000Z", "markdown": "Met [[Beta]]."}
    )
    assert (response.status_code, response.content) == (200, b"")
    note = _daily_note(sandbox, "2031-01-02")
    assert note is not None
    blocks = note["blocks"]["RootDailyNote_notes"]
    assert blocks[0]["hierarchy"]["key"] == "H3" and re.match(r"^\d\d:\d\d$", _texts(blocks)[0])
    assert any(t.get("entityId") == IDS["beta"] for t in blocks[1]["tokens"])
    again = api.post(
        "/blocks/daily-note/append", {"date": "2031-01-02", "noTimeStamp": True, "blocks": [_text("plain")]}
    )
    assert again.status_code == 200
    note = _daily_note(sandbox, "2031-01-02")
    assert note is not None and _texts(note["blocks"]["RootDailyNote_notes"])[-1] == "plain"
    assert len(note["blocks"]["RootDailyNote_notes"]) == 3
    listed = api.get("/objects/structure", id="RootDailyNote").json()["results"]
    assert {"id": note["id"], "structureId": "RootDailyNote", "title": "2031-01-02T00:00:00.000Z"} in listed
    exported = api.get("/object/markdown", id=note["id"]).json()["markdown"]
    assert exported.startswith("# 2031-01-02T00:00:00.000Z\n\n### ") and exported.endswith("plain")


def test_daily_note_defaults_to_today_and_rejects_bad_input(api: Api, sandbox: SandboxServer) -> None:
    before = sandbox.config.clock.today()
    assert (
        api.post("/blocks/daily-note/append", {"noTimeStamp": True, "markdown": "today entry"}).status_code
        == 200
    )
    after = sandbox.config.clock.today()  # the sandbox's day may have turned over meanwhile
    note = _daily_note(sandbox, after.isoformat()) or _daily_note(sandbox, before.isoformat())
    assert note is not None and _texts(note["blocks"]["RootDailyNote_notes"])[-1] == "today entry"
    assert (
        "→ at date"
        in error_of(api.post("/blocks/daily-note/append", {"date": "yesterday", "markdown": "x"}))[2]
    )
    assert (
        error_of(api.post("/blocks/daily-note/append", {"markdown": "x", "blocks": [_text("y")]}))[0] == 400
    )


def test_daily_note_date_is_the_utc_day_of_any_iso_timestamp(api: Api, sandbox: SandboxServer) -> None:
    """`date` names a day (ISO 8601, UTC midnight); the sandbox's account lives in UTC, so any
    other timestamp lands on its UTC day, and that note is created on demand."""
    cases = {
        "2031-03-01T23:59:59.999Z": "2031-03-01",
        "2031-03-02T23:30:00-02:00": "2031-03-03",
        "2031-03-04T00:30:00+02:00": "2031-03-03",
        "2031-03-05": "2031-03-05",
    }
    for given, day in cases.items():
        assert (
            api.post(
                "/blocks/daily-note/append", {"date": given, "noTimeStamp": True, "markdown": given}
            ).status_code
            == 200
        )
        note = _daily_note(sandbox, day)
        assert note is not None, given
        assert note["properties"]["title"]["title"]["value"] == f"{day}T00:00:00.000Z"
        texts = [t["text"] for b in note["blocks"]["RootDailyNote_notes"] for t in b["tokens"]]
        assert given in texts
    notes = [
        o
        for o in sandbox.state.live_objects()
        if o["structureId"] == "RootDailyNote"
        and o["properties"]["title"]["title"]["value"].startswith("2031-03-03")
    ]
    assert len(notes) == 1  # two appends, one note
    assert error_of(api.post("/blocks/daily-note/append", {"date": "2031-02-30", "markdown": "x"}))[0] == 400


def test_daily_note_append_is_queued_and_flushed_in_order() -> None:
    """Accepted at once, applied later: queued appends wait (the delay outlasts the test) until
    flushed, in order, or until the sandbox stops."""
    with _queued_daily_notes(delay=600) as (sandbox, api):
        assert _daily_note(sandbox, "2031-05-05") is None  # accepted, not yet written
        assert api.get("/_sandbox/health").json()["pendingDailyNotes"] == 1
        for text in ("first", "second"):
            api.post(
                "/blocks/daily-note/append", {"date": "2031-05-06", "noTimeStamp": True, "markdown": text}
            )
        assert _daily_note(sandbox, "2031-05-06") is None
        sandbox.flush_daily_notes()  # queued appends can be flushed at once, in order
        note = _daily_note(sandbox, "2031-05-06")
        assert note is not None and _texts(note["blocks"]["RootDailyNote_notes"]) == ["first", "second"]
        assert sandbox.runtime.pending_daily_notes == 0
        api.post("/blocks/daily-note/append", {"date": "2031-05-07", "markdown": "at shutdown"})
    # A clean stop applies what was still queued.
    assert _daily_note(sandbox, "2031-05-07") is not None


def test_a_queued_daily_note_append_applies_itself_after_the_delay() -> None:
    with _queued_daily_notes(delay=0.2) as (sandbox, _):
        deadline = time.monotonic() + 60  # a bound on the wait, not on the delay
        while _daily_note(sandbox, "2031-05-05") is None and time.monotonic() < deadline:
            time.sleep(0.02)
        note = _daily_note(sandbox, "2031-05-05")
        assert note is not None and _texts(note["blocks"]["RootDailyNote_notes"])[-1] == "later"
        assert sandbox.runtime.pending_daily_notes == 0  # taken off the queue as it was applied


@contextmanager
def _queued_daily_notes(delay: float) -> Iterator[tuple[SandboxServer, Api]]:
    """An empty sandbox whose daily-note appends wait `delay` s, one append of "later" to
    2031-05-05 already accepted (answered 200 with no body)."""
    with SandboxServer(SandboxConfig(daily_note_delay=delay, seed=False)) as sandbox:
        api = Api(sandbox.base_url, sandbox.api_token)
        try:
            response = api.post("/blocks/daily-note/append", {"date": "2031-05-05", "markdown": "later"})
            assert (response.status_code, response.content) == (200, b"")
            yield sandbox, api
        finally:
            api.close()


def test_patch_object_blocks_replace_content(api: Api) -> None:
    page = _page(api, "old one", "old two")
    response = api.patch("/object", {"id": page["id"], "blocks": {"content": [_text("new")]}})
    assert _texts(response.json()["blocks"]["content"]) == ["new"]
    assert response.json()["blocks"]["content"][0]["id"] not in {b["id"] for b in page["blocks"]["content"]}


def test_book_structure_blocks_round_trip(sandbox: SandboxServer) -> None:
    """A custom structure keeps its content under its own (uuid) block property."""
    store = fixture_store()
    assert store.content_property_of(BOOK) == BOOK_NOTES
    dune = store.get_object(IDS["dune"])
    assert dune is not None and _texts(dune["blocks"][BOOK_NOTES]) == ["A desert planet."]
