"""How many tokens does an agent spend reading the space through our tools?

Baseline: what a pass-through server hands the model — the API's JSON for the same thing
(`GET /object` for an object, `GET /space/structures` for the space), compact-serialized.
Measured: the text our tools return (`get_object` Markdown with readable properties, every
page of a long note included; `get_space` overview). Size is counted in characters and in a rough
token estimate
(characters / 4); the ratio is what matters, and both sides use the same count.

    python bench/token_economy.py
"""

from __future__ import annotations

import json
import statistics

import anyio
from _common import quiet_sandbox
from mcp import Client
from mcp.types import TextContent

from capacities_mcp.api import CapacitiesClient
from capacities_mcp.server import Settings, build_server


def _text(result: object) -> str:
    content = getattr(result, "content", [])
    return "".join(part.text for part in content if isinstance(part, TextContent))


async def measure() -> None:
    with quiet_sandbox() as sandbox:
        server = build_server(Settings(api_token=sandbox.api_token, api_url=sandbox.base_url))
        async with (
            CapacitiesClient(api_token=sandbox.api_token, base_url=sandbox.base_url) as api,
            Client(server) as mcp,
        ):
            structures = await api.space.structures()
            raw_space = json.dumps(
                structures.model_dump(mode="json", by_alias=True, exclude_unset=True), separators=(",", ":")
            )
            ours_space = _text(await mcp.call_tool("get_space", {}))
            print(f"{'what':44} {'API JSON':>10} {'our text':>10} {'ratio':>7}")
            print(
                f"{'get_space (all structures)':44} {len(raw_space):10,} {len(ours_space):10,} "
                f"{len(ours_space) / len(raw_space):7.2f}"
            )

            ratios = []
            rows = []
            for structure in structures.structures:
                page = await api.objects.structure(structure.id, page_size=100)
                for summary in page.results:
                    raw = await api.object.get(summary.id)
                    raw_text = json.dumps(
                        raw.model_dump(mode="json", by_alias=True, exclude_unset=True), separators=(",", ":")
                    )
                    # Read the whole object: follow the pages of long content.
                    result = await mcp.call_tool("get_object", {"id": summary.id})
                    ours = _text(result)
                    while (result.structured_content or {}).get("next_offset"):
                        offset = result.structured_content["next_offset"]
                        result = await mcp.call_tool("get_object", {"id": summary.id, "offset": offset})
                        ours += _text(result)
                    ratios.append(len(ours) / len(raw_text))
                    rows.append((summary.title[:40], structure.title, len(raw_text), len(ours)))
            rows.sort(key=lambda row: row[2])
            for title, kind, raw_len, ours_len in (rows[0], rows[len(rows) // 2], rows[-1]):
                label = f"get_object {kind}: {title}"[:44]
                print(f"{label:44} {raw_len:10,} {ours_len:10,} {ours_len / raw_len:7.2f}")
            total_raw = sum(row[2] for row in rows)
            total_ours = sum(row[3] for row in rows)
            print(
                f"{'get_object, all ' + str(len(rows)) + ' objects (sum)':44} {total_raw:10,} "
                f"{total_ours:10,} {total_ours / total_raw:7.2f}"
            )
            print(
                f"median per-object ratio {statistics.median(ratios):.2f}; "
                f"~tokens (chars/4) for all objects: API {total_raw // 4:,} vs ours {total_ours // 4:,}"
            )


if __name__ == "__main__":
    anyio.run(measure)
