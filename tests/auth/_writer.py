"""Subprocess for the crash-safety test: forks writers that rewrite the store until killed.

Importing the package takes most of a second, so this helper imports once and, for every line
`<n>` it reads, forks a child that writes version n, n+1, n+2, ... in a tight loop. It prints
`ready <pid>` once the child has written its first version, waits for the child to die (the
test sends it SIGKILL) and prints `dead`. The helper is single-threaded, so forking is safe.

Each version carries a refresh token `rt-<n>` and a large padding field derived from `n`, so the
test can tell a complete file of any version from a torn one.
"""

from __future__ import annotations

import os
import sys

from capacities_mcp.api import OAuthTokens
from capacities_mcp.auth import StoredCredentials, TokenStore


def version(n: int) -> StoredCredentials:
    return StoredCredentials(
        kind="oauth",
        base_url="http://127.0.0.1:1",
        client_id="capacities-mcp",
        scopes=("api:read",),
        tokens=OAuthTokens(f"at-{n}", f"rt-{n}", 1000.0 + n),
        space_id=f"space-{n}",
        space_title=str(n) * 20_000,
    )


def write_forever(store: TokenStore, n: int, ready_fd: int) -> None:
    store.write(version(n))
    os.write(ready_fd, b"x")
    while True:
        n += 1
        store.write(version(n))


def main() -> None:
    store = TokenStore(sys.argv[1])
    for line in sys.stdin:
        n = int(line)
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns into this loop
            try:
                os.close(ready_r)
                write_forever(store, n, ready_w)
            finally:
                os._exit(1)
        os.close(ready_w)
        os.read(ready_r, 1)
        os.close(ready_r)
        print(f"ready {pid}", flush=True)
        os.waitpid(pid, 0)
        print("dead", flush=True)


if __name__ == "__main__":
    main()
