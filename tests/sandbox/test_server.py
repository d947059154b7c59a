"""Ways to run the sandbox: the CLI process, the in-process server, the bare ASGI app, and the
demo space it serves by default."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from capacities_mcp.api import ROUTES_BY_NAME
from capacities_mcp.sandbox import ADMIN_TOKEN_HEADER, SandboxConfig, SandboxServer, SandboxStore, create_app

from .helpers import Api, assert_conforms


def _start_cli(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[str], dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "capacities_mcp", "sandbox", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    assert process.stdout is not None
    values: dict[str, str] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError(
                "sandbox CLI exited early: "
                f"{process.wait()} {process.stderr.read() if process.stderr else ''}"
            )
        if "=" in line:
            key, _, value = line.strip().partition("=")
            values[key] = value
        if line.startswith("Press Ctrl-C"):
            return process, values
    process.kill()
    raise AssertionError("sandbox CLI did not print its banner")


def test_cli_prints_url_and_tokens_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    process, values = _start_cli(
        "--read-only-token", "--rate-limit-window", "5", "--data", str(tmp_path / "s.json")
    )
    try:
        url, token, read_only = (
            values["CAPACITIES_API_URL"],
            values["CAPACITIES_API_TOKEN"],
            values["CAPACITIES_READ_ONLY_TOKEN"],
        )
        assert re.match(r"^http://127\.0\.0\.1:\d+$", url)
        assert token.startswith("cap-api-") and read_only.startswith("cap-api-") and token != read_only
        space = httpx2.get(f"{url}/space", headers={"Authorization": f"Bearer {token}"})
        assert space.status_code == 200 and space.headers["RateLimit"].endswith("reset=5")
        denied = httpx2.post(
            f"{url}/object",
            headers={"Authorization": f"Bearer {read_only}"},
            json={"structureId": "RootPage"},
        )
        assert denied.status_code == 403
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    assert json.loads((tmp_path / "s.json").read_text())["format"] == 1


def test_cli_takes_its_admin_token_from_the_environment() -> None:
    """A script that starts the sandbox can choose the admin token it will drive it with."""
    chosen = "a-chosen-admin-token-for-this-script-0123456789"
    process, values = _start_cli("--no-seed", env={"CAPACITIES_SANDBOX_ADMIN_TOKEN": chosen})
    try:
        url = values["CAPACITIES_API_URL"]
        answer = httpx2.post(
            f"{url}/_sandbox/faults", json={"latency": 0}, headers={ADMIN_TOKEN_HEADER: chosen}
        )
        assert answer.status_code == 200
        assert (
            httpx2.post(f"{url}/_sandbox/faults", json={}, headers={ADMIN_TOKEN_HEADER: "guess"}).status_code
            == 401
        )
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0


def test_cli_admin_token_on_stderr_and_a_loud_warning_off_loopback() -> None:
    process, values = _start_cli("--host", "0.0.0.0", "--auto-approve", "--no-seed")
    try:
        assert process.stderr is not None
        stderr: list[str] = []
        while not stderr or not stderr[-1].startswith("Admin token"):
            line = process.stderr.readline()
            assert line, "".join(stderr)
            stderr.append(line)
        assert "WARNING" in "".join(stderr) and "reachable from other machines" in "".join(stderr)
        admin = stderr[-1].rsplit(": ", 1)[1].strip()
        assert admin not in values.values()  # stdout carries only what a client should have
        url = values["CAPACITIES_API_URL"]
        assert httpx2.post(f"{url}/_sandbox/faults", json={}).status_code == 401
        answer = httpx2.post(f"{url}/_sandbox/faults", json={}, headers={ADMIN_TOKEN_HEADER: admin})
        assert answer.status_code == 200
        params = {
            "response_type": "code",
            "client_id": "capacities-mcp",
            "redirect_uri": "http://127.0.0.1:9/callback",
            "scope": "api:read",
            "resource": url,
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
        }
        # --auto-approve: only a request with the admin token gets a code without consent.
        untrusted = httpx2.get(f"{url}/oauth/authorize", params=params)
        assert untrusted.status_code == 200 and "<form" in untrusted.text
        trusted = httpx2.get(f"{url}/oauth/authorize", params=params, headers={ADMIN_TOKEN_HEADER: admin})
        assert trusted.status_code == 302 and "code=" in trusted.headers["location"]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0


def test_cli_crash_during_writes_leaves_a_valid_file(tmp_path: Path) -> None:
    data = tmp_path / "crash.json"
    process, values = _start_cli("--data", str(data), "--no-seed")
    url, token = values["CAPACITIES_API_URL"], values["CAPACITIES_API_TOKEN"]
    stop = threading.Event()
    written: list[int] = []

    def hammer() -> None:
        with httpx2.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
            body = {
                "structureId": "RootPage",
                "blocks": {"content": [{"type": "CodeBlock", "lang": "", "text": "x" * 20_000}]},
            }
            while not stop.is_set():
                try:
                    if http.post("/object", json=body).status_code == 200:
                        written.append(1)
                except httpx2.HTTPError:
                    return

    worker = threading.Thread(target=hammer)
    worker.start()
    deadline = time.monotonic() + 60  # a bound on the wait: each write saves the whole file
    while len(written) < 10 and time.monotonic() < deadline:
        time.sleep(0.01)
    process.kill()  # SIGKILL: no chance to finish a write cleanly
    process.wait(timeout=10)
    stop.set()
    worker.join(timeout=10)
    assert len(written) >= 10
    store = SandboxStore.load(data)  # parses: the file is the old or the new state, never torn
    assert len(store.objects) >= len(written)  # acknowledged writes were saved first
    # Only the data file, maybe a temp file, and the killed sandbox's lock file, whose OS lock
    # died with it: the restart below claims the file again.
    left = {p.name for p in tmp_path.iterdir() if not p.name.endswith(".tmp")}
    assert left <= {"crash.json", "crash.json.lock"}
    # The restarted sandbox accepts the token printed before the crash.
    process2, values2 = _start_cli("--data", str(data))
    try:
        response = httpx2.get(
            f"{values2['CAPACITIES_API_URL']}/space", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200
        # and removed any temporary file the kill left behind
        assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    finally:
        process2.send_signal(signal.SIGTERM)
        assert process2.wait(timeout=15) == 0


def test_cli_rejects_bad_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "capacities_mcp", "sandbox", "--rate-limit-window", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "rate-limit-window" in result.stderr and result.stdout == ""


def test_server_lifecycle() -> None:
    sandbox = SandboxServer(SandboxConfig(seed=False))
    with pytest.raises(RuntimeError):
        _ = sandbox.base_url
    sandbox.start()
    try:
        url = sandbox.base_url
        assert httpx2.get(f"{url}/_sandbox/health").json()["status"] == "ok"
        with pytest.raises(RuntimeError):
            sandbox.start()
    finally:
        sandbox.stop()
    assert not sandbox.running
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"{url}/_sandbox/health")
    sandbox.stop()  # idempotent
    sandbox.start()  # and startable again, with the same state and token
    try:
        response = httpx2.get(
            f"{sandbox.base_url}/space", headers={"Authorization": f"Bearer {sandbox.api_token}"}
        )
        assert response.json() == sandbox.state.space
    finally:
        sandbox.stop()


def test_port_in_use_is_reported() -> None:
    with SandboxServer(SandboxConfig(seed=False)) as first, pytest.raises(OSError):
        SandboxServer(SandboxConfig(seed=False, port=first.port)).start()


async def test_asgi_app_without_a_thread() -> None:
    app = create_app(SandboxConfig(seed=False))
    token = app.runtime.mint_token(("api:read", "api:write"))
    transport = httpx2.ASGITransport(app=app)
    async with httpx2.AsyncClient(
        transport=transport, base_url="http://sandbox.test", headers={"Authorization": f"Bearer {token}"}
    ) as http:
        assert (await http.get("/space")).json() == app.runtime.store.space
        created = await http.post("/object", json={"structureId": "RootPage"})
        assert created.status_code == 200
        meta = (await http.get("/.well-known/oauth-authorization-server")).json()
        assert meta["token_endpoint"] == "http://sandbox.test/oauth/token"


@pytest.fixture(scope="module")
def demo() -> Iterator[SandboxServer]:
    with SandboxServer(SandboxConfig()) as server:  # the default: the demo space from _seed
        yield server


def test_demo_space_serves_every_object(demo: SandboxServer) -> None:
    """Every seeded object reads back schema-valid, renders as Markdown, and is searchable."""
    ids = [obj["id"] for obj in demo.state.live_objects()]
    assert len(ids) >= 20
    kinds = {obj["structureId"] for obj in demo.state.live_objects()}
    assert {"RootPage", "RootTag", "RootDailyNote"} <= kinds
    api: Api | None = None
    for index, object_id in enumerate(ids):
        if index % 14 == 0:  # stay under the 30/min quotas of both routes with fresh tokens
            if api is not None:
                api.close()
            api = Api(demo.base_url, demo.mint_token(("api:read",)))
        assert api is not None
        obj = api.get("/object", id=object_id)
        assert obj.status_code == 200, obj.text
        assert_conforms("GET", "/object", obj.json())
        markdown = api.get("/object/markdown", id=object_id)
        assert markdown.status_code == 200, markdown.text
        title = demo.state.title_of(demo.state.objects[object_id])
        assert markdown.json()["markdown"].startswith(f"# {title}")
    assert api is not None
    assert_conforms("GET", "/space", api.get("/space").json())
    structures = api.get("/space/structures").json()
    assert_conforms("GET", "/space/structures", structures)
    api.close()


def test_demo_space_links_and_tags_resolve(demo: SandboxServer) -> None:
    store = demo.state
    tag_ids = {o["id"] for o in store.live_objects() if o["structureId"] == "RootTag"}
    tagged = [o for o in store.live_objects() if o["properties"].get("tags", {}).get("entity")]
    assert tagged and all(t["id"] in tag_ids for o in tagged for t in o["properties"]["tags"]["entity"])
    links = [
        t
        for o in store.live_objects()
        for blocks in o.get("blocks", {}).values()
        for b in blocks
        for t in b.get("tokens", [])
        if t.get("entityId")
    ]
    assert links and all(store.get_object(t["entityId"]) is not None for t in links)
    route = ROUTES_BY_NAME["objects.structure"]
    api = Api(demo.base_url, demo.mint_token(("api:read",)))
    try:
        notes = api.get(route.path, id="RootDailyNote").json()["results"]
        assert len(notes) == 7 and all(n["title"].endswith("T00:00:00.000Z") for n in notes)
    finally:
        api.close()
