"""Contract test: the OFFICIAL TypeScript client `@capacities/api@1.0.1` against the sandbox.

The node script `node/official_sdk_contract.mjs` drives the official `CapacitiesClient` through
all 14 operations of the 1.0.0 contract (plus error, raw-wire and OAuth checks), validates every
response with the SDK's exported zod schemas, and prints one JSON line per check. Here each check
is one pytest case, so a sandbox non-conformance shows up as one named failure with its details.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from capacities_mcp.api import ERROR_CODES

pytestmark = pytest.mark.slow

NODE_DIR = Path(__file__).resolve().parent / "node"
SCRIPT = NODE_DIR / "official_sdk_contract.mjs"
SCRIPT_TIMEOUT = 120.0

# Every check the script reports, in order. Kept explicit so a check that silently stops being
# reported fails `test_report_is_complete` instead of vanishing.
EXPECTED_CHECKS: tuple[str, ...] = (
    "sdk.version",
    "sdk.error_codes",
    # the 14 contract operations (several with variants)
    "space.get",
    "space.structures",
    "object.create",
    "object.create.custom_type_properties",
    "object.update.collections",
    "object.get",
    "object.get.seeded_objects",
    "object.update",
    "objects.search",
    "objects.search.titles_only",
    "object.createFromUrl",
    "object.createFromUrl.blocks",
    "object.markdown.get",
    "object.markdown.create",
    "blocks.append.blocks",
    "blocks.append.markdown",
    "blocks.append.rich_blocks",
    "blocks.append.positions",
    "blocks.dailyNote.append.blocks",
    "blocks.dailyNote.append.markdown",
    "blocks.block.update",
    "blocks.block.update.children",
    "blocks.block.delete",
    "object.delete.soft",
    "object.update.restore",
    "object.delete.hard",
    # raw wire facts the client hides
    "wire.empty_body_routes",
    "wire.json_content_type",
    "wire.ratelimit_header",
    # error behaviour through the official client
    "error.not_found",
    "error.scope_insufficient",
    "error.read_scope_allows_reads",
    "error.not_authenticated",
    # invalid bodies / queries -> 400 cap_invalid_input with zod-style messages
    "invalid.object.create.structure_id",
    "invalid.object.create.property_value",
    "invalid.object.create.block",
    "invalid.object.update.nothing",
    "invalid.object.url.not_a_url",
    "invalid.object.url.blocks_and_markdown",
    "invalid.object.markdown.create.missing",
    "invalid.objects.search.blank_query",
    "invalid.objects.search.limit",
    "invalid.blocks.append.blocks_and_markdown",
    "invalid.blocks.append.grid_columns",
    "invalid.blocks.append.link_token_targets",
    "invalid.blocks.append.entity_block_date",
    "invalid.blocks.daily_note.neither",
    "invalid.blocks.block.update.unknown_type",
    "invalid.object.get.id",
    "invalid.object.get.missing_id",
    "invalid.object.markdown.get.id",
    "invalid.object.delete.hard_delete",
    "invalid.block.delete.block_id",
    "invalid.malformed_json",
    "invalid.version_header",
    "invalid.object.create.read_only_property",
    "wire.integral_float_accepted",
    "invalid.number_overflow",
    # OAuth mode of the official client (sandbox provider, auto-approve)
    "oauth.authorization_code_pkce",
    "oauth.client_api_call",
    "oauth.proactive_refresh",
    "oauth.refresh_after_401",
    "oauth.rotated_refresh_token_rejected",
    "oauth.metadata",
    "oauth.revoke",
    "oauth.refresh_failure_is_oauth_error",
    # last: a sandbox that stores what it cannot render may break later answers
    "wire.lone_surrogate_strings",
    # unknown keys in any response validated above (OpenAPI additionalProperties: false)
    "responses.no_unknown_keys",
    "script.completed",
)


@dataclass(frozen=True)
class Report:
    checks: dict[str, dict[str, Any]]
    order: list[str]
    returncode: int
    stderr: str
    stray_stdout: list[str]


def _parse_report(stdout: str) -> tuple[dict[str, dict[str, Any]], list[str], list[str]]:
    checks: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    stray: list[str] = []
    for line in stdout.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            stray.append(line)
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("check"), str):
            stray.append(line)
            continue
        name = entry["check"]
        if name in checks:
            stray.append(f"duplicate check {name}: {line}")
            continue
        checks[name] = entry
        order.append(name)
    return checks, order, stray


@pytest.fixture(scope="module")
def sdk_report(node_executable: str) -> Iterator[Report]:
    from capacities_mcp.sandbox import SandboxConfig, SandboxServer

    config = SandboxConfig(port=0, rate_limit_window=60.0, daily_note_delay=0.0, auto_approve=True)
    with SandboxServer(config) as sandbox:
        base_url = sandbox.base_url.rstrip("/")
        contract_config: dict[str, Any] = {
            "baseUrl": base_url,
            "apiToken": sandbox.api_token,
            "readToken": sandbox.mint_token(scopes=("api:read",)),
            "oauth": {
                "clientId": "capacities-mcp",
                "redirectUri": "http://127.0.0.1:8976/callback",
                "scope": "api:read api:write offline_access",
                "resource": base_url,
                # auto_approve skips the consent page only for requests carrying it
                "adminToken": sandbox.admin_token,
            },
        }
        env = {**os.environ, "CONTRACT_CONFIG": json.dumps(contract_config)}
        try:
            proc = subprocess.run(
                [node_executable, str(SCRIPT)],
                cwd=NODE_DIR,
                env=env,
                capture_output=True,
                text=True,
                timeout=SCRIPT_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"{SCRIPT.name} did not finish within {exc.timeout}s", pytrace=False)
    checks, order, stray = _parse_report(proc.stdout)
    yield Report(checks, order, proc.returncode, proc.stderr, stray)


def test_report_is_complete(sdk_report: Report) -> None:
    """The script ran to the end and reported exactly the expected checks, in order."""
    assert sdk_report.returncode == 0, (
        f"script exit {sdk_report.returncode}\nstderr:\n{sdk_report.stderr[-3000:]}"
    )
    assert not sdk_report.stray_stdout, f"unexpected output: {sdk_report.stray_stdout[:10]}"
    assert sdk_report.order == list(EXPECTED_CHECKS), (
        f"missing: {sorted(set(EXPECTED_CHECKS) - set(sdk_report.order))}; "
        f"unexpected: {sorted(set(sdk_report.order) - set(EXPECTED_CHECKS))}"
    )


@pytest.mark.parametrize("name", EXPECTED_CHECKS)
def test_official_sdk_check(sdk_report: Report, name: str) -> None:
    entry = sdk_report.checks.get(name)
    assert entry is not None, (
        f"check {name!r} was not reported (script exit {sdk_report.returncode}); "
        f"stderr:\n{sdk_report.stderr[-2000:]}"
    )
    if entry.get("ok") is None:
        pytest.skip(str(entry.get("skipped") or "skipped by the script"))
    assert entry.get("ok") is True, f"{name}: {entry.get('detail')}"


def test_the_clients_error_codes_are_the_sdks(sdk_report: Report) -> None:
    """`api.ERROR_CODES` (which the OpenAPI contract test also checks answers against) is the SDK's."""
    entry = sdk_report.checks.get("sdk.error_codes")
    assert entry is not None and entry.get("ok") is True, entry
    assert json.loads(entry["detail"]) == sorted(ERROR_CODES)
