"""`SandboxServer`: the sandbox app on a real socket, served by uvicorn in a background thread.

    with SandboxServer(SandboxConfig(rate_limit_window=1.0)) as sb:
        client = CapacitiesClient(api_token=sb.api_token, base_url=sb.base_url)

The thread runs its own event loop; `start()` returns once the socket accepts connections and
`stop()` returns once the server has shut down.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn

from ._app import SandboxApp, SandboxRuntime, create_app
from ._config import SandboxConfig
from ._faults import Faults
from ._oauth import OAUTH_CLIENT_ID
from ._store import SandboxStore

__all__ = ["SandboxServer"]

_START_TIMEOUT = 10.0

logger = logging.getLogger("capacities_mcp.sandbox")


def is_loopback_host(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def exposure_warning(host: str) -> str:
    """What binding beyond loopback means, for the log and the CLI's stderr."""
    return (
        f"WARNING: the sandbox listens on {host}, reachable from other machines. Anyone who "
        f"reaches it can read and change its space with the printed API token, and try OAuth "
        f"sign-ins. It is a test server: bind it to 127.0.0.1 unless you mean this."
    )


class SandboxServer:
    """A running sandbox: its URL, a ready personal token, fault switches and state."""

    oauth_client_id = OAUTH_CLIENT_ID

    def __init__(self, config: SandboxConfig | None = None, *, store: SandboxStore | None = None) -> None:
        """`store`: serve this state instead of loading the data file or the demo space."""
        self.config = config or SandboxConfig()
        self.runtime = SandboxRuntime(self.config, store=store)
        self.app: SandboxApp = create_app(runtime=self.runtime)
        self.api_token = self.runtime.mint_token(("api:read", "api:write"))
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self._port: int | None = None

    # --- what tests use ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("The sandbox is not running: call start() first")
        host = self.config.host
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self._port}"

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("The sandbox is not running: call start() first")
        return self._port

    @property
    def admin_token(self) -> str:
        """Needed for `/_sandbox/faults` and for OAuth auto-approval (header `X-Sandbox-Admin-Token`)."""
        return self.runtime.admin_token

    @property
    def faults(self) -> Faults:
        return self.runtime.faults

    @property
    def state(self) -> SandboxStore:
        return self.runtime.store

    def mint_token(
        self, scopes: tuple[str, ...] | list[str] = ("api:read",), *, account: str | None = None
    ) -> str:
        """A new personal token with these scopes, of the main space or of the named account's."""
        return self.runtime.mint_token(scopes, account=account)

    def space_of(self, account: str) -> SandboxStore:
        """The state of an account's space (`SandboxConfig.accounts`)."""
        return self.runtime.account(account).store

    def expire_access_tokens(self) -> int:
        """Every OAuth access token issued so far now answers 401 (refresh tokens stay good)."""
        return self.runtime.oauth.expire_access_tokens()

    def flush_daily_notes(self) -> None:
        """Apply queued daily-note appends now instead of after `daily_note_delay`."""
        self.runtime.flush_daily_notes()

    def revoke_token(self, token: str) -> None:
        """Revoke a personal token, or the OAuth grant behind an access or refresh token."""
        self.runtime.revoke_token(token)

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> SandboxServer:
        if self._thread is not None:
            raise RuntimeError("The sandbox is already running")
        if not is_loopback_host(self.config.host):
            logger.warning(exposure_warning(self.config.host))
        family = socket.AF_INET6 if ":" in self.config.host else socket.AF_INET
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on such sockets, and without it
        # every keep-alive response waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.host, self.config.port))
        except OSError:
            sock.close()
            raise
        sock.listen(128)
        sock.setblocking(False)
        self._socket = sock
        self._port = int(sock.getsockname()[1])
        self.runtime.base_url = self.base_url  # every account's file URLs start with it
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            log_config=None,  # leave the host's logging alone (stdout may be an MCP channel)
            access_log=False,
            lifespan="off",
            http="h11",
            loop="asyncio",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        self._server = server
        failure: list[BaseException] = []

        def serve() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # reported to start() or stop()
                failure.append(exc)

        self._thread = threading.Thread(target=serve, name=f"sandbox:{self._port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                reason = (
                    failure[0] if failure else "timed out" if self._thread.is_alive() else "unknown error"
                )
                self.stop()
                raise RuntimeError(f"The sandbox failed to start: {reason}")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            self.runtime.close()
            return
        server.should_exit = True
        thread.join(timeout=10)
        if thread.is_alive():  # a connection refused to close: stop waiting for it
            server.force_exit = True
            thread.join(timeout=5)
        self._cleanup()
        self.runtime.close()  # flushes queued daily-note appends; frees the data file

    def _cleanup(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket = None
        self._server = None
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._port is not None else "not running"
        return f"SandboxServer({where})"
