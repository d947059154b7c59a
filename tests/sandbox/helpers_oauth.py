"""An OAuth driver for the sandbox's provider: the browser's consent and the token endpoint."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2

from capacities_mcp.sandbox import ADMIN_TOKEN_HEADER, SandboxServer

REDIRECT = "http://127.0.0.1:53682/callback"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


class Flow:
    """Drives the browser side and the token endpoint of one sandbox."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        # The admin token: with `auto_approve`, only requests carrying it skip the consent page.
        self.http = httpx2.Client(
            base_url=sandbox.base_url,
            follow_redirects=False,
            timeout=10,
            headers={ADMIN_TOKEN_HEADER: sandbox.admin_token},
        )

    def authorize_params(self, challenge: str, **overrides: str | None) -> dict[str, str]:
        params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.sandbox.oauth_client_id,
            "redirect_uri": REDIRECT,
            "scope": "api:read api:write offline_access",
            "resource": self.sandbox.base_url,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "xyz-state",
        }
        params.update(overrides)
        return {k: v for k, v in params.items() if v is not None}

    def consent(self, params: dict[str, str], decision: str = "approve") -> httpx2.Response:
        page = self.http.get("/oauth/authorize", params=params)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), page.text
        assert "Approve" in page.text and "Deny" in page.text
        request_id = re.search(r'name="request_id" value="([^"]+)"', page.text)
        assert request_id is not None
        return self.http.post(
            "/oauth/authorize", data={"request_id": request_id.group(1), "decision": decision}
        )

    def code(self, challenge: str, **overrides: str | None) -> str:
        answer = self.consent(self.authorize_params(challenge, **overrides))
        assert answer.status_code == 302, answer.text
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        assert query["state"] == [overrides.get("state", "xyz-state")]
        return query["code"][0]

    def token(self, **form: str) -> httpx2.Response:
        return self.http.post("/oauth/token", data={"client_id": self.sandbox.oauth_client_id, **form})

    def exchange(self, code: str, verifier: str) -> httpx2.Response:
        return self.token(
            grant_type="authorization_code", code=code, code_verifier=verifier, redirect_uri=REDIRECT
        )

    def login(self, scope: str = "api:read api:write offline_access") -> dict[str, Any]:
        verifier, challenge = pkce()
        response = self.exchange(self.code(challenge, scope=scope), verifier)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def refresh(self, refresh_token: str) -> httpx2.Response:
        return self.token(grant_type="refresh_token", refresh_token=refresh_token)

    def api_status(self, access_token: str, path: str = "/space") -> int:
        return self.http.get(path, headers={"Authorization": f"Bearer {access_token}"}).status_code

    def close(self) -> None:
        self.http.close()
