"""Several multi-user server processes behind one round-robin proxy (no tests here).

    with replica_processes(sandbox, redis.url, public_url, count=3) as replicas: ...
    proxy = RoundRobinProxy([r.origin for r in replicas])   # an ASGI app, served at public_url

The proxy plays the load balancer: each request goes to the next replica; a replica that
refuses connections is skipped (the request never reached it, so sending it elsewhere is
safe); a request whose answer is lost after it was sent gets 502, as nginx or Caddy would say.
Used by tests/remote and bench/remote_users.py.
"""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx2
from starlette.types import Receive, Scope, Send

from capacities_mcp._environment import ENV_API_URL, ENV_ENCRYPTION_KEY
from capacities_mcp.remote import new_key_spec
from capacities_mcp.sandbox import SandboxServer

from ..server.helpers_process import ServerProcess, base_env, http_server

__all__ = ["RoundRobinProxy", "free_socket", "kill", "replica_processes"]

_HOP_BY_HOP = {"host", "connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


def free_socket(port: int = 0) -> socket.socket:
    """A listening loopback socket on `port` (0: any free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


@contextmanager
def replica_processes(
    sandbox: SandboxServer, redis_url: str, public_url: str, tmp: Path, count: int = 3
) -> Iterator[list[ServerProcess]]:
    """`count` `serve --multi-user` processes sharing one Redis and one encryption key, started
    side by side (each takes a second or more to import the SDK)."""
    env = base_env(tmp, {ENV_API_URL: sandbox.base_url, ENV_ENCRYPTION_KEY: new_key_spec("t1")})
    args = ["--transport", "http", "--multi-user", "--public-url", public_url]
    args += ["--redis-url", redis_url]
    with ThreadPoolExecutor(count) as pool, ExitStack() as stack:
        starting = [
            pool.submit(stack.enter_context, http_server(env, args, timeout=90)) for _ in range(count)
        ]
        yield [future.result() for future in starting]


class RoundRobinProxy:
    """A tiny HTTP load balancer (ASGI app): round robin, skip replicas that refuse connections."""

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self.down: set[str] = set()
        self.served: Counter[str] = Counter()
        self.failed_after_sending = 0
        self._next = 0
        # Idle connections dropped before the replicas drop theirs (5 s): no reuse races.
        self._http = httpx2.AsyncClient(timeout=60, limits=httpx2.Limits(keepalive_expiry=2.0))

    def _pick(self) -> list[str]:
        order = [self.upstreams[(self._next + i) % len(self.upstreams)] for i in range(len(self.upstreams))]
        self._next += 1
        return [target for target in order if target not in self.down]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await self._http.aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(k.decode(), v.decode()) for k, v in scope["headers"]]
        headers = [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP]
        query = ("?" + scope["query_string"].decode()) if scope.get("query_string") else ""
        for target in self._pick():
            try:
                response = await self._http.request(
                    scope["method"], f"{target}{scope['path']}{query}", headers=headers, content=body
                )
            except httpx2.ConnectError:
                self.down.add(target)  # refused: never reached it, the next one may answer
                continue
            except httpx2.HTTPError:
                self.failed_after_sending += 1
                await _answer(send, 502, [], b"bad gateway")
                return
            self.served[target] += 1
            kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _HOP_BY_HOP]
            await _answer(send, response.status_code, kept, response.content)
            return
        await _answer(send, 503, [], b"no replica")


async def _answer(send: Send, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    raw: list[Any] = [(k.encode(), v.encode()) for k, v in headers]
    raw.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def kill(process: ServerProcess) -> None:
    """Gone at once, mid-request if one is running (SIGKILL: no graceful shutdown)."""
    process.process.kill()
    process.process.wait(timeout=10)
