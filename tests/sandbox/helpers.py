"""Sandbox test support: a small, fully known space, a raw HTTP client, OpenAPI checks.

The fixture space (not the demo space, which has its own tests) has every kind of property the
rules care about: single and multi labels, an entity property with allowed structures, a
read-only property, collections, and enough objects of one structure to need three pages.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import httpx2

from capacities_mcp.sandbox import SandboxStore, store_from_seed
from capacities_mcp.sandbox._seed import SeedObject, SeedSpace
from tests.helpers_openapi import OPERATIONS_BY_KEY, validator_at

SPACE_ID = "0f6a5d1e-8c1b-4c3a-9a53-2d0c51b7e001"
BOOK = "4ba6e5c6-3f31-45f2-93a0-27a8b2d91551"
PERSON = "5c2d1b7e-1f0a-4c1e-8d2b-6a7b8c9d0e11"
BOOK_NOTES = "2b460909-3c4b-443e-91eb-315c1baf419c"
FAVORITES = "5cd11f44-88f9-448b-9875-af8ff1a5b2b9"
TO_READ = "6de22f55-99fa-4a9c-8986-b09fa6c3c3ca"
PAGED_BOOKS = 205

_TITLE = {"id": "title", "name": "Title", "type": "title", "writable": True}
_CREATED = {"id": "createdAt", "name": "Created", "type": "createdAt", "writable": True}
_UPDATED = {"id": "lastUpdatedAt", "name": "Last updated", "type": "lastUpdatedAt", "writable": False}
_TAGS = {"id": "tags", "name": "Tags", "type": "entity", "writable": True, "allowedStructures": ["RootTag"]}


def _structure(
    sid: str, title: str, defs: list[dict[str, Any]], collections: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {
        "id": sid,
        "title": title,
        "pluralName": f"{title}s",
        "propertyDefinitions": defs,
        "labelColor": "purple",
        "collections": collections or [],
    }


# The fixture space is a `SeedSpace` of `SeedObject`s, so the product's seed loader reads it.
FixtureObject = partial(SeedObject, created_at="2026-08-01T09:00:00.000Z")


def _uuid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


IDS = {
    "alpha": _uuid(1),
    "centauri": _uuid(2),
    "alphabet": _uuid(3),
    "the_alpha": _uuid(4),
    "beta": _uuid(5),
    "tag_ideas": _uuid(6),
    "tag_work": _uuid(7),
    "task": _uuid(8),
    "ada": _uuid(9),
    "dune": _uuid(10),
    "weblink": _uuid(11),
    "trash_me": _uuid(12),
}


def fixture_space() -> SeedSpace:
    structures = [
        _structure("RootPage", "Page", [_TITLE, _TAGS, _CREATED, _UPDATED]),
        _structure("RootTag", "Tag", [_TITLE]),
        _structure(
            "RootTask",
            "Task",
            [
                _TITLE,
                {
                    "id": "status",
                    "name": "Status",
                    "type": "label",
                    "writable": True,
                    "multiple": False,
                    "labelSet": [
                        {"id": "not-started", "name": "Not started"},
                        {"id": "in-progress", "name": "In progress", "color": "blue"},
                        {"id": "done", "name": "Done"},
                    ],
                },
                {"id": "date", "name": "Date", "type": "date", "writable": True},
                _TAGS,
            ],
        ),
        _structure(
            BOOK,
            "Book",
            [
                _TITLE,
                {"id": "rating", "name": "Rating", "type": "number", "writable": True},
                {
                    "id": "genres",
                    "name": "Genres",
                    "type": "label",
                    "writable": True,
                    "multiple": True,
                    "labelSet": [
                        {"id": "sf", "name": "Science fiction"},
                        {"id": "classic", "name": "Classic"},
                        {"id": "essay", "name": "Essay"},
                    ],
                },
                {
                    "id": "author",
                    "name": "Author",
                    "type": "entity",
                    "writable": True,
                    "allowedStructures": [PERSON],
                },
                {"id": "summary", "name": "Summary", "type": "richText", "writable": True},
                {"id": "isbn", "name": "ISBN", "type": "text", "writable": False},
                _CREATED,
            ],
            [{"id": FAVORITES, "title": "Favorites"}, {"id": TO_READ, "title": "To read"}],
        ),
        _structure(PERSON, "Person", [_TITLE]),
        _structure(
            "MediaWebResource",
            "Weblink",
            [
                _TITLE,
                {"id": "description", "name": "Description", "type": "text", "writable": True},
                {"id": "media_URLReference", "name": "URL", "type": "url", "writable": False},
                _TAGS,
            ],
        ),
        _structure("RootDailyNote", "Daily note", [_TITLE]),
    ]
    objects = [
        FixtureObject(
            IDS["alpha"],
            "RootPage",
            "Project Alpha",
            "Intro paragraph.\n\n## Plan\n\n- first step\n- second step\n\nSee [[Beta]].",
            tags=("ideas",),
        ),
        FixtureObject(IDS["centauri"], "RootPage", "Alpha Centauri notes", "Stars."),
        FixtureObject(IDS["alphabet"], "RootPage", "Alphabet soup"),
        FixtureObject(IDS["the_alpha"], "RootPage", "The alpha test"),
        FixtureObject(IDS["beta"], "RootPage", "Beta", "Second page.", tags=("ideas", "work")),
        FixtureObject(IDS["tag_ideas"], "RootTag", "ideas"),
        FixtureObject(IDS["tag_work"], "RootTag", "work"),
        FixtureObject(
            IDS["task"],
            "RootTask",
            "Write report",
            properties={"status": {"type": "label", "label": [{"id": "in-progress", "name": "In progress"}]}},
            tags=("work",),
        ),
        FixtureObject(IDS["ada"], PERSON, "Ada Lovelace"),
        FixtureObject(
            IDS["dune"],
            BOOK,
            "Dune",
            "A desert planet.",
            properties={
                "rating": {"type": "number", "number": {"value": 5}},
                "isbn": {"type": "text", "text": {"value": "978-0441013593"}},
            },
            collections=(FAVORITES,),
        ),
        FixtureObject(IDS["weblink"], "MediaWebResource", "Example site", url="https://example.com/"),
        FixtureObject(IDS["trash_me"], "RootPage", "Disposable page"),
    ]
    objects += [
        FixtureObject(_uuid(1000 + i), BOOK, f"Paged book {i:03d}", collections=(TO_READ,) if i % 2 else ())
        for i in range(PAGED_BOOKS)
    ]
    return SeedSpace(
        space={"id": SPACE_ID, "title": "Fixture space", "icon": {"type": "emoji", "val": "🧪"}},
        structures=structures,
        objects=objects,
        content_property={
            "RootPage": "content",
            "RootTag": "content",
            "RootTask": "content",
            BOOK: BOOK_NOTES,
            PERSON: "content",
            "MediaWebResource": "media_notes",
            "RootDailyNote": "RootDailyNote_notes",
        },
    )


def fixture_store(data_file: Path | None = None) -> SandboxStore:
    return store_from_seed(fixture_space(), data_file=data_file)


def add_pdf_collection(store: SandboxStore, collection_id: str, title: str) -> None:
    """Give the space a PDF type with this collection (neither space lists media types).

    An upload may only go into its own structure's collections, as an object create may.
    """
    structure = store.structure("MediaPDF")
    if structure is None:
        structure = _structure("MediaPDF", "PDF", [_TITLE])
        store.structures.append(structure)
    structure["collections"].append({"id": collection_id, "title": title})


class Api:
    """A raw HTTP client for one fresh token (so every test starts with full quotas)."""

    def __init__(self, base_url: str, token: str) -> None:
        self.token = token
        self.http = httpx2.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10)

    def get(self, path: str, **params: Any) -> httpx2.Response:
        return self.http.get(path, params=params)

    def delete(self, path: str, **params: Any) -> httpx2.Response:
        return self.http.delete(path, params=params)

    def post(self, path: str, body: Any) -> httpx2.Response:
        return self.http.post(path, json=body)

    def patch(self, path: str, body: Any) -> httpx2.Response:
        return self.http.patch(path, json=body)

    def close(self) -> None:
        self.http.close()


def error_of(response: httpx2.Response) -> tuple[int, str, str]:
    body = response.json()
    assert set(body) <= {"code", "message", "details"}, body
    return response.status_code, body["code"], body["message"]


# --- OpenAPI conformance ---------------------------------------------------------------------------


def assert_conforms(method: str, path: str, body: Any) -> None:
    """The response body validates against the official OpenAPI document's 200 schema."""
    pointer = OPERATIONS_BY_KEY[f"{method.upper()} {path}"].response_pointer
    assert pointer is not None, f"{method} {path} documents no JSON response"
    validator_at(pointer).validate(body)
