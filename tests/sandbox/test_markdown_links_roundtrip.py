"""Links exported by GET /object/markdown come back as entity links when appended again."""

from __future__ import annotations

import httpx2

from capacities_mcp.sandbox import SandboxConfig, SandboxServer
from capacities_mcp.sandbox._seed import SMART_NOTES_BOOK_ID, WELCOME_PAGE_ID


def test_exported_object_links_round_trip_as_entity_links() -> None:
    with SandboxServer(SandboxConfig(port=0)) as sb:
        headers = {"Authorization": f"Bearer {sb.api_token}"}
        url = f"https://app.capacities.io/{sb.state.space['id']}/{SMART_NOTES_BOOK_ID}"
        foreign = "https://example.com/elsewhere"
        body = {"id": WELCOME_PAGE_ID, "markdown": f"See [the book]({url}) and [this]({foreign})."}
        answer = httpx2.post(f"{sb.base_url}/blocks/append", json=body, headers=headers)
        assert answer.status_code == 200, answer.text
        content = answer.json()["blocks"]["content"]
        tokens = content[-1]["tokens"]
        links = {t["text"]: t for t in tokens if t["type"] == "LinkToken"}
        assert links["the book"] == {"type": "LinkToken", "text": "the book", "entityId": SMART_NOTES_BOOK_ID}
        assert links["this"]["url"] == foreign and "entityId" not in links["this"]


def test_bad_front_matter_message_is_not_doubled() -> None:
    with SandboxServer(SandboxConfig(port=0)) as sb:
        headers = {"Authorization": f"Bearer {sb.api_token}"}
        body = {"structureId": "RootPage", "markdown": "---\ntitle: [unclosed\n---\n# T\n"}
        answer = httpx2.post(f"{sb.base_url}/object/markdown", json=body, headers=headers)
        assert answer.status_code == 400
        message = answer.json()["message"]
        assert "Invalid YAML front matter" in message and "Invalid front matter" not in message
