"""Test helpers: a stand-in browser that does what a person would.

It opens the authorize URL, approves (or denies) on the consent page, and follows the redirect
to the loopback listener.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx2


@dataclass
class FakeBrowser:
    """Stands in for `webbrowser`: follows the authorize URL like a user would.

    `decision`: "approve" or "deny" on the consent page (ignored with auto-approve).
    `forge_state`: replace the `state` of the redirect, as a forged or stale request would.
    """

    decision: str = "approve"
    forge_state: bool = False
    opened: list[str] = field(default_factory=list)
    callback_status: int | None = None
    callback_body: str = ""

    def __call__(self, url: str) -> bool:
        self.opened.append(url)
        with httpx2.Client(timeout=10, follow_redirects=False) as http:
            response = http.get(url)
            if response.status_code == 200 and "<form" in response.text:
                request_id = re.search(r'name="request_id" value="([^"]+)"', response.text)
                assert request_id is not None, "no consent form"
                parts = urlsplit(url)
                response = http.post(
                    f"{parts.scheme}://{parts.netloc}/oauth/authorize",
                    data={"request_id": request_id.group(1), "decision": self.decision},
                )
            assert response.status_code in (302, 303), response.text
            location = response.headers["location"]
            if self.forge_state:
                location = _with_state(location, "forged-state")
            callback = http.get(location)
            self.callback_status = callback.status_code
            self.callback_body = callback.text
        return True


def _with_state(url: str, state: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = state
    return urlunsplit(parts._replace(query=urlencode(query)))
