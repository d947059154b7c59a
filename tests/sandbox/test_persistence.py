"""State in a data file: it survives restarts, and a failed or interrupted write never leaves
a torn file behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx2
import pytest

from capacities_mcp.sandbox import SandboxConfig, SandboxServer, SandboxStore
from capacities_mcp.sandbox import _store as store_module
from capacities_mcp.sandbox._store import DataFileInUseError

from .helpers import IDS, Api, error_of, fixture_store
from .helpers_oauth import REDIRECT, Flow, pkce


def _client(sandbox: SandboxServer, token: str) -> Api:
    return Api(sandbox.base_url, token)


def test_state_and_credentials_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "space.json"
    config = SandboxConfig(data_file=data, auto_approve=True)
    with SandboxServer(config, store=fixture_store(data)) as first:
        api = _client(first, first.api_token)
        created = api.post(
            "/object",
            {
                "structureId": "RootPage",
                "properties": {"title": {"type": "title", "title": {"value": "Persisted"}}},
            },
        ).json()
        api.post("/blocks/append", {"id": created["id"], "markdown": "Kept **across** restarts."})
        api.patch("/object", {"id": IDS["beta"], "deleteRequested": True})
        api.delete("/object", id=IDS["centauri"], hardDelete="true")
        api.post("/blocks/daily-note/append", {"date": "2030-03-03", "markdown": "diary"})
        reader_token = first.mint_token(("api:read",))
        expected = api.get("/object", id=created["id"]).json()
        api.close()
        on_disk = json.loads(data.read_text())
        assert first.api_token not in data.read_text() and reader_token not in data.read_text()
        assert created["id"] in {o["id"] for o in on_disk["objects"]}

    # Restart on the same file: no `store=`, so the sandbox loads it (and ignores the seed).
    with SandboxServer(config) as second:
        assert second.state.space["id"] == on_disk["space"]["id"]
        old = _client(second, first.api_token)  # tokens minted before the restart still work
        assert old.get("/object", id=created["id"]).json() == expected
        assert old.get("/object", id=IDS["beta"]).status_code == 404
        assert old.patch("/object", {"id": IDS["beta"], "deleteRequested": False}).status_code == 200
        assert old.get("/object", id=IDS["centauri"]).status_code == 404
        assert (
            old.post("/objects/search", {"query": "2030-03-03"}).json()["results"][0]["structureId"]
            == "RootDailyNote"
        )
        markdown = old.get("/object/markdown", id=created["id"]).json()["markdown"]
        assert markdown == "# Persisted\n\nKept **across** restarts."
        old.close()
        reader = _client(second, reader_token)
        assert error_of(reader.post("/object", {"structureId": "RootPage"}))[0] == 403
        reader.close()
        # The restored object remains restored after yet another restart.
    with SandboxServer(config) as third:
        assert third.state.get_object(IDS["beta"]) is not None


def test_oauth_grants_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "oauth.json"
    config = SandboxConfig(data_file=data, seed=False, auto_approve=True)
    with SandboxServer(config) as first:
        flow = Flow(first)
        verifier, challenge = pkce()
        location = flow.http.get("/oauth/authorize", params=flow.authorize_params(challenge)).headers[
            "location"
        ]
        code = httpx2.URL(location).params["code"]
        tokens = flow.exchange(code, verifier).json()
        flow.close()
        assert tokens["refresh_token"] not in data.read_text()
    with SandboxServer(config) as second:
        flow = Flow(second)
        try:
            assert flow.api_status(tokens["access_token"]) == 200
            rotated = flow.refresh(tokens["refresh_token"])
            assert rotated.status_code == 200, rotated.text
        finally:
            flow.close()
    assert REDIRECT.startswith("http://127.0.0.1")


def test_failed_write_leaves_the_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "space.json"
    with SandboxServer(SandboxConfig(data_file=data, seed=False)) as sandbox:
        api = _client(sandbox, sandbox.api_token)
        api.post(
            "/object",
            {
                "structureId": "RootPage",
                "properties": {"title": {"type": "title", "title": {"value": "Before"}}},
            },
        )
        before = data.read_bytes()

        def broken_replace(src: str, dst: str) -> None:
            raise OSError("disk on fire")

        monkeypatch.setattr("capacities_mcp._files.os.replace", broken_replace)
        response = api.post(
            "/object",
            {
                "structureId": "RootPage",
                "properties": {"title": {"type": "title", "title": {"value": "After"}}},
            },
        )
        assert error_of(response)[:2] == (500, "cap_server_error")
        assert data.read_bytes() == before
        # no temp file left behind (the lock file marks the running sandbox's claim)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["space.json", "space.json.lock"]
        monkeypatch.undo()
        assert api.post("/object", {"structureId": "RootPage"}).status_code == 200
        api.close()
    titles = {SandboxStore.title_of(o) for o in SandboxStore.load(data).objects.values()}
    assert {"Before", "After"} <= titles  # the next successful save wrote everything


def test_atomic_write_goes_through_a_synced_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "state.json"
    target.write_text('{"old": true}')
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync")
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        assert Path(src).parent == tmp_path and Path(src) != target
        assert json.loads(Path(src).read_text()) == {"new": True}  # complete before the swap
        assert json.loads(target.read_text()) == {"old": True}
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr("capacities_mcp._files.os.fsync", fsync)
    monkeypatch.setattr("capacities_mcp._files.os.replace", replace)
    store_module.atomic_write(target, b'{"new": true}')
    assert events[:2] == ["fsync", "replace"]
    assert json.loads(target.read_text()) == {"new": True}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_corrupt_or_foreign_data_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 99}')
    with pytest.raises(ValueError, match="Unsupported sandbox data format"):
        SandboxServer(SandboxConfig(data_file=bad))


def test_one_sandbox_per_data_file(tmp_path: Path) -> None:
    """A second sandbox on a served data file refuses to start instead of overwriting the
    first one's changes; once the first stops, the file is free again."""
    data = tmp_path / "shared.json"
    config = SandboxConfig(data_file=data, seed=False)
    with SandboxServer(config) as first:
        with pytest.raises(DataFileInUseError, match="in use by another running sandbox"):
            SandboxServer(config)
        api = _client(first, first.api_token)
        created = api.post(
            "/object",
            {
                "structureId": "RootPage",
                "properties": {"title": {"type": "title", "title": {"value": "Mine"}}},
            },
        ).json()
        api.close()
        # A store loaded for reading does not claim the file; one that saves does.
        reader = SandboxStore.load(data)
        assert created["id"] in reader.objects
        with pytest.raises(DataFileInUseError):
            reader.save()
    assert SandboxStore.load(data).get_object(created["id"]) is not None
    with SandboxServer(config) as second:  # free after a clean stop
        assert second.state.get_object(created["id"]) is not None


def test_cli_refuses_a_data_file_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from capacities_mcp.sandbox import _cli

    data = tmp_path / "busy.json"
    with SandboxServer(SandboxConfig(data_file=data, seed=False)):
        parser = argparse.ArgumentParser()
        _cli.add_arguments(parser)
        assert _cli.run(parser.parse_args(["--data", str(data)])) != 0
    assert "in use by another running sandbox" in capsys.readouterr().err


def test_a_restart_removes_temporary_files_a_crash_left(tmp_path: Path) -> None:
    data = tmp_path / "space.json"
    with SandboxServer(SandboxConfig(data_file=data, seed=False)):
        pass
    orphans = [tmp_path / ".space.json.k2j4x9.tmp", tmp_path / ".space.json.zz.tmp"]
    unrelated = [tmp_path / ".tokens.json.k2j4x9.tmp", tmp_path / "space.json.tmp"]
    for path in orphans + unrelated:
        path.write_bytes(b'{"half": ')
    with SandboxServer(SandboxConfig(data_file=data, seed=False)):
        assert not any(path.exists() for path in orphans)
        assert all(path.exists() for path in unrelated)  # not the names atomic_write gives them


def test_temporary_files_of_a_running_sandbox_are_left_alone(tmp_path: Path) -> None:
    data = tmp_path / "space.json"
    with SandboxServer(SandboxConfig(data_file=data, seed=False)):
        in_flight = tmp_path / ".space.json.writing.tmp"  # as if the first were mid-write
        in_flight.write_bytes(b"{")
        with pytest.raises(DataFileInUseError):
            SandboxServer(SandboxConfig(data_file=data, seed=False))
        assert in_flight.exists()
