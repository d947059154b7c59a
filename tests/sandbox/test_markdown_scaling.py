"""Markdown parsing and rendering grow linearly, and a large write does not stall other requests.

Cost is measured deterministically, as the number of Python lines executed (a trace count, the
same on every machine), never as time: for 4x the input a linear pipeline runs 4.0-4.1x the
lines here; the quadratic task-list scan this replaced ran 5.8x at these sizes, and more at
every larger size.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import pytest

from capacities_mcp._collector import collector_paused
from capacities_mcp.sandbox import SandboxServer, SandboxStore
from capacities_mcp.sandbox import _markdown as markdown_module
from capacities_mcp.sandbox._content import readable_blocks
from capacities_mcp.sandbox._markdown import blocks_to_markdown, markdown_to_blocks
from capacities_mcp.sandbox._space import SpaceService

from .helpers import BOOK_NOTES, IDS, Api, fixture_store

# 4x the input may cost at most this many times the lines (linear: 4.0-4.1).
LINEAR_BOUND = 4.5
SMALL, LARGE = 60, 240


def _todos(n: int) -> str:
    return "".join(f"- [ ] task {i}\n" if i % 3 else f"- [x] done {i}\n" for i in range(n))


def _nested_lists(n: int) -> str:
    unit = "- parent\n    - child with **bold**\n        1. grandchild\n    - [ ] nested task\n"
    return unit * n


def _long_paragraphs(n: int) -> str:
    sentence = "A sentence with *emphasis*, `code`, $x^2$ and a [link](https://example.com). "
    return "\n\n".join(sentence * 4 for _ in range(n))


def _headings_and_sections(n: int) -> str:
    return "".join(f"## Section {i}\n\nSome text [[Dune]] here.\n\n> quoted {i}\n\n---\n\n" for i in range(n))


DOCUMENTS: dict[str, Callable[[int], str]] = {
    "todos": _todos,
    "nested lists": _nested_lists,
    "long paragraphs": _long_paragraphs,
    "headings and sections": _headings_and_sections,
}


def executed_lines(work: Callable[[], Any]) -> int:
    """How many Python lines `work()` executes (in every module, the parser's included)."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def global_trace(frame: FrameType, event: str, arg: Any) -> Any:
        return local

    previous = sys.gettrace()
    sys.settrace(global_trace)
    try:
        work()
    finally:
        sys.settrace(previous)
    return count


def growth(cost_of: Callable[[int], int]) -> float:
    return cost_of(LARGE) / cost_of(SMALL)


@pytest.fixture(scope="module")
def service() -> SpaceService:
    return SpaceService(fixture_store())


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_parsing_grows_linearly(kind: str) -> None:
    make = DOCUMENTS[kind]
    ratio = growth(lambda n: executed_lines(lambda: markdown_to_blocks(make(n))))
    assert ratio < LINEAR_BOUND, f"{kind}: 4x the input cost {ratio:.1f}x the work"


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_rendering_grows_linearly(kind: str) -> None:
    make = DOCUMENTS[kind]

    def cost(n: int) -> int:
        blocks = readable_blocks(markdown_to_blocks(make(n)))
        return executed_lines(lambda: blocks_to_markdown(blocks, entity_link=lambda _: None))

    ratio = growth(cost)
    assert ratio < LINEAR_BOUND, f"{kind}: 4x the blocks cost {ratio:.1f}x the work"


def test_the_sandbox_write_path_grows_linearly_with_links(service: SpaceService) -> None:
    """The service's parse (ids, [[links]] looked up in the space) scales like the parser."""
    ratio = growth(lambda n: executed_lines(lambda: service.parse_markdown(_headings_and_sections(n))))
    assert ratio < LINEAR_BOUND, f"4x the links cost {ratio:.1f}x the work"


def test_links_resolve_against_the_space(service: SpaceService) -> None:
    blocks = service.parse_markdown("See [[dune]] and [[Nothing by that name]].")
    tokens = blocks[0]["tokens"]
    assert tokens[1] == {"type": "LinkToken", "text": "dune", "entityId": IDS["dune"]}
    assert tokens[2]["text"] == " and [[Nothing by that name]]."


def test_a_tab_after_the_checkbox_still_makes_a_task() -> None:
    assert [block["todo"] for block in markdown_to_blocks("- [x]\tdone\n- [ ]\topen")] == [
        {"isDone": True},
        {"isDone": False},
    ]


def test_a_large_document_round_trips() -> None:
    markdown = _todos(2_000) + "\n" + _nested_lists(200)
    blocks = markdown_to_blocks(markdown)
    assert len(blocks) == 2_000 + 200
    rendered = blocks_to_markdown(readable_blocks(blocks), entity_link=lambda _: None)
    assert markdown_to_blocks(rendered) == blocks


def test_the_collector_stays_as_another_pause_left_it() -> None:
    with collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()


# --- the event loop stays free ---------------------------------------------------------------------

_BIG_MARKER = "big-document-marker"


class _ParseGate:
    """Holds the parse of the big document until the test has been answered elsewhere."""

    def __init__(self) -> None:
        self.parsing = threading.Event()
        self.release = threading.Event()

    def wrap(self, parse: Callable[..., Any]) -> Callable[..., Any]:
        def gated(markdown: str, **kwargs: Any) -> Any:
            if _BIG_MARKER in markdown:
                self.parsing.set()
                assert self.release.wait(60), "the test never released the parse"
            return parse(markdown, **kwargs)

        return gated


@pytest.fixture
def gated_sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SandboxServer, _ParseGate]]:
    gate = _ParseGate()
    monkeypatch.setattr(markdown_module, "markdown_to_blocks", gate.wrap(markdown_module.markdown_to_blocks))
    store: SandboxStore = fixture_store()
    with SandboxServer(store=store) as server:
        try:
            yield server, gate
        finally:
            gate.release.set()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/object/markdown", {"structureId": "RootPage", "markdown": f"# Big\n\n{_BIG_MARKER}\n\n"}),
        ("/blocks/append", {"id": IDS["dune"], "propertyId": BOOK_NOTES, "markdown": _BIG_MARKER}),
    ],
)
def test_other_requests_are_answered_while_a_large_write_is_parsed(
    gated_sandbox: tuple[SandboxServer, _ParseGate], path: str, body: dict[str, Any]
) -> None:
    server, gate = gated_sandbox
    token = server.mint_token(("api:read", "api:write"))
    finished: list[str] = []
    big_status: list[int] = []
    body = {**body, "markdown": body["markdown"] + _todos(3_000)}

    def big_write() -> None:
        big = Api(server.base_url, token)
        try:
            big_status.append(big.post(path, body).status_code)
        finally:
            big.close()
            finished.append("big write")

    writer = threading.Thread(target=big_write)
    writer.start()
    try:
        assert gate.parsing.wait(30), "the big write never started parsing"
        small = Api(server.base_url, token)
        try:
            assert small.get("/space").status_code == 200
            assert small.get("/object", id=IDS["dune"]).status_code == 200
            append = {
                "id": IDS["dune"],
                "propertyId": BOOK_NOTES,
                "blocks": [{"type": "HorizontalLineBlock"}],
            }
            assert small.post("/blocks/append", append).status_code == 200
        finally:
            small.close()
        finished.append("small requests")
    finally:
        gate.release.set()
        writer.join(60)
    assert finished == ["small requests", "big write"]
    assert big_status == [200]
