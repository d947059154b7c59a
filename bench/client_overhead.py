"""What does `CapacitiesClient` cost on top of a bare HTTP request?

Baseline: `httpx2.AsyncClient.get(...)` of `GET /object` on the sandbox, body decoded with
`json.loads`. Measured: `client.object.get(id)` for the same object — input validation, rate-limit
bookkeeping, and parsing into typed models included. Reported as a ratio of medians; the target
is < 1.5x for a typical object and for the largest demo note.

    python bench/client_overhead.py [--repeats 200]
"""

from __future__ import annotations

import argparse
import json

import anyio
import httpx2
from _common import median_ms, quiet_sandbox, time_async

from capacities_mcp.api import API_VERSION_HEADER, CapacitiesClient


async def measure(repeats: int) -> list[tuple[str, float, float]]:
    rows = []
    with quiet_sandbox() as sandbox:
        async with (
            CapacitiesClient(api_token=sandbox.api_token, base_url=sandbox.base_url) as client,
            httpx2.AsyncClient(
                headers={"Authorization": f"Bearer {sandbox.api_token}", API_VERSION_HEADER: "1.0.0"}
            ) as raw,
        ):
            listing = await client.objects.structure("RootPage", page_size=100)
            sizes = []
            for summary in listing.results:
                body = await raw.get(f"{sandbox.base_url}/object", params={"id": summary.id})
                sizes.append((len(body.content), summary.id, summary.title))
            sizes.sort()
            picks = {"typical page": sizes[len(sizes) // 2], "largest page": sizes[-1]}
            for label, (size, object_id, _title) in picks.items():

                async def baseline(object_id: str = object_id) -> object:
                    response = await raw.get(f"{sandbox.base_url}/object", params={"id": object_id})
                    return json.loads(response.content)

                async def typed(object_id: str = object_id) -> object:
                    return await client.object.get(object_id)

                base = median_ms(await time_async(baseline, repeats))
                ours = median_ms(await time_async(typed, repeats))
                rows.append((f"{label} ({size:,} B)", base, ours))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    rows = anyio.run(measure, args.repeats)
    print(f"{'object':32} {'httpx2 ms':>10} {'client ms':>10} {'ratio':>7}")
    for label, base, ours in rows:
        print(f"{label:32} {base:10.2f} {ours:10.2f} {ours / base:7.2f}x")


if __name__ == "__main__":
    main()
