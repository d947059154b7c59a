"""The mirror's SQLite file: full-text search (any order, prefixes, diacritics, CJK), ranking,
privacy, rebuilds of corrupt or outdated files, and the crawl lease between processes."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from capacities_mcp.api.models import ApiObject
from capacities_mcp.mirror import MirrorStore, fts5_available, record_of
from capacities_mcp.mirror._query import search
from capacities_mcp.server._tokens import estimate_tokens

from .helpers import record


@pytest.fixture
def store(tmp_path: Path) -> MirrorStore:
    return MirrorStore(tmp_path / "space.sqlite3")


def titles(store: MirrorStore, query: str, **options: object) -> list[str]:
    return [hit.title for hit in search(store, query, **options)]  # type: ignore[arg-type]


def test_this_sqlite_has_fts5() -> None:
    """Every supported Python ships it; without it the mirror degrades to a scan (and says so)."""
    assert fts5_available()


def test_words_in_any_order_as_prefixes_and_without_diacritics(store: MirrorStore) -> None:
    store.put(record("a", "Reading list", "Niklas Lühmann kept a slip-box of index cards."))
    store.put(record("b", "Groceries", "Milk, bread, slips of paper"))
    assert titles(store, "box slip luhmann") == ["Reading list"]
    assert titles(store, "LUHMANN car") == ["Reading list"]  # "car" is a prefix of "cards"
    assert set(titles(store, "slip")) == {"Reading list", "Groceries"}
    assert titles(store, "luhmann groceries") == []


def test_title_matches_come_first_and_hits_carry_snippet_and_block(store: MirrorStore) -> None:
    store.put(record("a", "Notes", "planning " * 30 + "the quarterly planning meeting"))
    store.put(record("b", "Q3 planning meeting", "agenda"))
    hits = search(store, "meeting planning")
    assert [h.title for h in hits] == ["Q3 planning meeting", "Notes"]
    assert hits[0].title_match and not hits[1].title_match
    assert hits[1].block_id == "a-b0"
    assert hits[1].snippet is not None and "planning meeting" in hits[1].snippet
    assert hits[1].snippet.startswith("…") and len(hits[1].snippet) < 260
    assert titles(store, "meeting planning", titles_only=True) == ["Q3 planning meeting"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("会议", "周会"),  # a two-character word inside an unspaced sentence
        ("复习方法", "周会"),
        ("東京", "出張"),
        ("カタカナ", "出張"),
        ("서울", "회의"),  # Hangul: a word with a particle attached ("서울에서")
        ("方法 会议", "周会"),  # several words, any order
    ],
)
def test_cjk_words_are_found_inside_unspaced_text(store: MirrorStore, query: str, expected: str) -> None:
    store.put(record("zh", "周会", "今天的会议讨论了间隔复习方法和项目进度。"))
    store.put(record("ja", "出張", "来週は東京へ行きます。カタカナの資料を準備する。"))
    store.put(record("ko", "회의", "다음 주에 서울에서 회의가 있습니다."))
    store.put(record("en", "Plain", "nothing in other scripts"))
    hits = search(store, query)
    assert [h.title for h in hits] == [expected]
    assert hits[0].snippet is not None and query.split()[0] in hits[0].snippet


def test_a_changed_object_is_reindexed_and_a_gone_one_is_not_found(store: MirrorStore) -> None:
    store.put(record("a", "Draft", "old words here"))
    store.put(record("a", "Final", "new words here"))
    assert titles(store, "old") == [] and titles(store, "new") == ["Final"]
    store.gone("a")
    assert titles(store, "new") == []
    store.listed([("a", "RootPage", "Final again")], listed_at=1.0)  # restored: listed again
    assert titles(store, "again") == ["Final again"]


def test_a_read_stored_late_does_not_undo_a_later_write_or_delete(store: MirrorStore) -> None:
    """Reads wait in the mirror's queue: one stored after a newer state is left out."""
    assert store.put(record("a", "Final", "new words"), fetched_at=200.0)
    assert not store.put(record("a", "Draft", "old words"), fetched_at=100.0)
    assert titles(store, "words") == ["Final"]
    store.listed([("a", "RootPage", "Draft")], listed_at=100.0, seen_at=100.0)  # an older listing
    assert titles(store, "draft") == [] and titles(store, "final") == ["Final"]
    store.gone("a")
    assert not store.put(record("a", "Final", "new words"), fetched_at=150.0)  # read before the delete
    store.listed([("a", "RootPage", "Final")], listed_at=150.0, seen_at=150.0)
    assert titles(store, "final") == []


def test_text_in_blocks_and_tokens_newer_than_this_client_is_kept() -> None:
    """A block type the client does not know keeps its fields raw: their text is still read."""
    title = {"type": "title", "title": {"value": "Mixed"}}
    known = {
        "id": "t1",
        "type": "TextBlock",
        "tokens": [
            {"type": "TextToken", "text": "plain ", "style": {}},
            {"type": "SparkToken", "text": "spark"},
        ],
        "blocks": [],
        "hierarchy": {"key": "Base", "val": 0},
    }
    newer = {
        "id": "f1",
        "type": "FancyBlock",
        "tokens": [{"type": "TextToken", "text": "fancy words"}],
        "blocks": [{"id": "f2", "type": "TextBlock", "tokens": [{"type": "TextToken", "text": "inner"}]}],
        "columns": [[{"id": "c1", "type": "CodeBlock", "lang": "py", "text": "print(1)"}]],
    }
    obj = ApiObject.model_validate(
        {
            "id": "o1",
            "structureId": "RootPage",
            "collections": [],
            "properties": {"title": title},
            "blocks": {"content": [known, newer]},
        }
    )
    found = record_of(obj)
    assert found.title == "Mixed"
    assert found.blocks == [("t1", "plain spark"), ("f1", "fancy words"), ("f2", "inner"), ("c1", "print(1)")]


def test_sizes_are_the_servers_token_estimate() -> None:
    """One estimate everywhere: a size in a listing means what get_object's pages mean."""
    text = ("会议记录", "今天的会议讨论了间隔复习方法。", "Plain English words follow here.")
    assert record("a", *text).tokens == estimate_tokens("\n".join(text))


def test_the_file_is_private(store: MirrorStore, tmp_path: Path) -> None:
    store.put(record("a", "Secret plans", "text"))
    for path in tmp_path.glob("space.sqlite3*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name


def test_a_corrupt_file_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "space.sqlite3"
    path.write_bytes(b"this is not a database" * 500)
    store = MirrorStore(path)
    assert store.rebuilt
    store.put(record("a", "Works again", "text"))
    assert titles(store, "works") == ["Works again"]


def _outdated_file(tmp_path: Path) -> Path:
    """A mirror file holding one object, under a schema version older than any real one."""
    path = tmp_path / "space.sqlite3"
    first = MirrorStore(path)
    first.put(record("a", "Old", "text"))
    first.set_meta("schema_version", "0")
    first.close()
    return path


def test_an_outdated_schema_is_rebuilt(tmp_path: Path) -> None:
    again = MirrorStore(_outdated_file(tmp_path))
    assert again.rebuilt and again.stats().objects == 0


def test_a_read_only_look_changes_nothing(tmp_path: Path) -> None:
    """What `capacities-mcp mirror status` uses: an outdated file is reported, not rebuilt."""
    look = MirrorStore(_outdated_file(tmp_path), read_only=True)
    assert not look.rebuilt and look.stats().objects == 1
    with pytest.raises(sqlite3.OperationalError):
        look.put(record("b", "New", "text"))
    look.close()
    with pytest.raises(sqlite3.OperationalError):
        MirrorStore(tmp_path / "absent.sqlite3", read_only=True)
    assert not (tmp_path / "absent.sqlite3").exists()


def test_a_current_file_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "space.sqlite3"
    MirrorStore(path).put(record("a", "Kept", "text"))
    again = MirrorStore(path)
    assert not again.rebuilt and titles(again, "kept") == ["Kept"]


def test_one_crawler_at_a_time_per_file(tmp_path: Path) -> None:
    path = tmp_path / "space.sqlite3"
    one, two = MirrorStore(path), MirrorStore(path)
    assert one.take_lease("one", ttl=30) and one.take_lease("one", ttl=30)
    assert not two.take_lease("two", ttl=30)
    one.release_lease("one")
    assert two.take_lease("two", ttl=30)
    assert not one.take_lease("one", ttl=30)


def test_a_dead_crawlers_lease_is_taken_over_at_once(tmp_path: Path) -> None:
    path = tmp_path / "space.sqlite3"
    one, two = MirrorStore(path), MirrorStore(path)
    assert one.take_lease(f"{os.getpid()}-alive", ttl=30)
    assert not two.take_lease("two", ttl=30)
    one.take_lease("999999999-dead", ttl=30)  # a crawler that was killed with -9
    one.release_lease(f"{os.getpid()}-alive")
    assert one.take_lease("999999999-dead", ttl=30)
    assert two.take_lease("two", ttl=30)


def test_two_connections_see_each_others_writes(tmp_path: Path) -> None:
    path = tmp_path / "space.sqlite3"
    one, two = MirrorStore(path), MirrorStore(path)
    one.put(record("a", "Shared", "written by one"))
    assert titles(two, "written") == ["Shared"]
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_without_fts5_it_says_so_and_still_finds_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Some SQLite builds lack FTS5: objects are still mirrored and searched, by a scan."""
    monkeypatch.setattr("capacities_mcp.mirror._store.fts5_available", lambda: False)
    with caplog.at_level("WARNING"):
        store = MirrorStore(tmp_path / "plain.sqlite3")
    assert not store.has_fts and "no FTS5" in caplog.text
    store.put(record("a", "Reading list", "Niklas Luhmann kept a slip-box of index cards."))
    store.put(record("b", "Groceries", "Milk, bread, slips of paper"))
    assert titles(store, "box slip luhmann") == ["Reading list"]
    assert titles(store, "luhmann groceries") == []


def test_a_search_hit_does_not_undo_its_listing(store: MirrorStore) -> None:
    """A title search seen during a listing pass must not make the sweep take its hits for gone."""
    store.listed([("a", "RootPage", "Field notes")], listed_at=101.0)  # listed in the pass
    store.listed([("a", "RootPage", "Field notes")], listed_at=None)  # then found by a search
    store.listed([("n", "RootPage", "New by search")], listed_at=None)  # never listed
    assert store.sweep(["RootPage"], pass_started=100.0) == 1  # only the one no listing showed
    assert titles(store, "field notes") == ["Field notes"]
