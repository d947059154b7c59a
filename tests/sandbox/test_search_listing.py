"""Title search (relevance, filters, limits) and cursor-paged listings over real HTTP."""

from __future__ import annotations

from .helpers import BOOK, FAVORITES, IDS, PAGED_BOOKS, TO_READ, Api, assert_conforms, error_of


def test_search_orders_by_relevance(api: Api) -> None:
    response = api.post("/objects/search", {"query": "  alpha  "})
    assert response.status_code == 200
    assert_conforms("POST", "/objects/search", response.json())
    titles = [r["title"] for r in response.json()["results"]]
    # exact > prefix > word prefix > substring; ties by title
    exact = [r["title"] for r in api.post("/objects/search", {"query": "project alpha"}).json()["results"]]
    assert exact == ["Project Alpha"]
    assert titles == ["Alpha Centauri notes", "Alphabet soup", "Project Alpha", "The alpha test"]
    substring = [r["title"] for r in api.post("/objects/search", {"query": "lpha"}).json()["results"]]
    assert substring == ["Alpha Centauri notes", "Alphabet soup", "Project Alpha", "The alpha test"]
    ranked = [r["title"] for r in api.post("/objects/search", {"query": "alphabet soup"}).json()["results"]]
    assert ranked == ["Alphabet soup"]


def test_search_rank_levels(api: Api) -> None:
    for title in ("Zeta", "Zeta function", "The zeta page", "Pizzeta"):
        api.post(
            "/object",
            {
                "structureId": "RootPage",
                "properties": {"title": {"type": "title", "title": {"value": title}}},
            },
        )
    titles = [r["title"] for r in api.post("/objects/search", {"query": "zeta"}).json()["results"]]
    assert titles == ["Zeta", "Zeta function", "The zeta page", "Pizzeta"]


def test_search_filters_limits_and_errors(api: Api) -> None:
    results = api.post("/objects/search", {"query": "book", "structureIds": [BOOK], "limit": 50}).json()[
        "results"
    ]
    assert len(results) == 50 and all(r["structureId"] == BOOK for r in results)
    assert len(api.post("/objects/search", {"query": "paged book"}).json()["results"]) == 20
    assert (
        api.post("/objects/search", {"query": "alpha", "structureIds": ["RootTask"]}).json()["results"] == []
    )
    one = api.post("/objects/search", {"query": "ideas", "structureIds": ["RootTag"]}).json()["results"]
    assert one == [{"id": IDS["tag_ideas"], "structureId": "RootTag", "title": "ideas"}]
    for body, where in (
        ({"query": "   "}, "query"),
        ({"query": "a", "limit": 51}, "limit"),
        ({"query": "a", "limit": 0}, "limit"),
        ({"query": "a", "structureIds": []}, "structureIds"),
        ({"query": "x" * 513}, "query"),
        ({"query": 3}, "query"),
    ):
        status, code, message = error_of(api.post("/objects/search", body))
        assert (status, code) == (400, "cap_invalid_input") and f"→ at {where}" in message, message


def test_listing_by_structure_pages_with_opaque_cursor(api: Api) -> None:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"id": BOOK, **({"cursor": cursor} if cursor else {})}
        page = api.get("/objects/structure", **params)
        assert page.status_code == 200, page.text
        body = page.json()
        pages += 1
        seen += [r["id"] for r in body["results"]]
        assert all(set(r) == {"id", "structureId", "title"} for r in body["results"])
        if not body["hasMore"]:
            assert "nextCursor" not in body
            break
        cursor = body["nextCursor"]
        assert isinstance(cursor, str) and BOOK not in cursor
    assert pages == 3
    assert len(seen) == len(set(seen)) and len(seen) >= PAGED_BOOKS + 1
    small = api.get("/objects/structure", id=BOOK, pageSize="7").json()
    assert len(small["results"]) == 7 and small["hasMore"] is True
    nxt = api.get("/objects/structure", id=BOOK, pageSize="7", cursor=small["nextCursor"]).json()
    assert nxt["results"][0]["id"] == seen[7]


def test_listing_by_tag_and_collection(api: Api) -> None:
    tagged = api.get("/objects/tag", id=IDS["tag_ideas"]).json()
    assert {r["id"] for r in tagged["results"]} >= {IDS["alpha"], IDS["beta"]}
    assert IDS["task"] not in {r["id"] for r in tagged["results"]}
    assert tagged["hasMore"] is False
    favorites = api.get("/objects/collection", id=FAVORITES).json()["results"]
    assert IDS["dune"] in {r["id"] for r in favorites}
    to_read = api.get("/objects/collection", id=TO_READ, pageSize="100").json()
    assert len(to_read["results"]) == 100 and to_read["hasMore"] is True
    rest = api.get("/objects/collection", id=TO_READ, cursor=to_read["nextCursor"]).json()
    assert len(to_read["results"]) + len(rest["results"]) == PAGED_BOOKS // 2
    databases = api.get("/objects/structure", id="RootDatabase").json()["results"]
    assert {"id": FAVORITES, "structureId": "RootDatabase", "title": "Favorites"} in databases


def test_listing_errors(api: Api) -> None:
    status, _, message = error_of(api.get("/objects/structure", structureId=BOOK))
    assert status == 400 and "→ at id" in message
    assert error_of(api.get("/objects/structure", id=BOOK, pageSize="101"))[0] == 400
    assert error_of(api.get("/objects/structure", id=BOOK, pageSize="0"))[0] == 400
    assert error_of(api.get("/objects/structure", id=BOOK, pageSize="ten"))[0] == 400
    status, _, message = error_of(api.get("/objects/structure", id=BOOK, cursor="garbage"))
    assert status == 400 and "→ at cursor" in message
    other = api.get("/objects/collection", id=TO_READ, pageSize="1").json()["nextCursor"]
    assert error_of(api.get("/objects/structure", id=BOOK, cursor=other))[0] == 400
    assert error_of(api.get("/objects/tag", id=IDS["alpha"]))[:2] == (404, "cap_not_found")
    assert error_of(api.get("/objects/collection", id="7d2e7f8a-4c3b-4e1d-9f0a-123456789abc"))[0] == 404
    assert error_of(api.get("/objects/structure", id="7d2e7f8a-4c3b-4e1d-9f0a-123456789abc"))[0] == 404


def test_listing_excludes_trashed(api: Api) -> None:
    page = api.post(
        "/object",
        {
            "structureId": "RootPage",
            "properties": {"tags": {"type": "entity", "entity": [{"id": IDS["tag_work"]}]}},
        },
    ).json()
    assert page["id"] in {r["id"] for r in api.get("/objects/tag", id=IDS["tag_work"]).json()["results"]}
    api.delete("/object", id=page["id"])
    assert page["id"] not in {r["id"] for r in api.get("/objects/tag", id=IDS["tag_work"]).json()["results"]}
    assert page["id"] not in {r["id"] for r in api.get("/objects/structure", id="RootPage").json()["results"]}
