"""`build_server(settings) -> MCPServer`: the one place the MCP server is assembled.

The process owns exactly one `CapacitiesClient` (one connection pool, one rate limiter, one OAuth
token manager: several clients would each think they had the whole per-route quota and would race
each other's refresh-token rotations). It lives in a `_Runtime` that the MCP lifespan borrows.

The runtime opens once the MCP handshake is over (tools/list answered) or on the first call that
needs it, whichever comes first: a host starts the server for every session and waits for its
tool list, which needs neither the client, the API models, the tool modules nor the sandbox.

Why a reference-counted runtime instead of opening the client inside the lifespan directly: the
SDK enters the lifespan once per *connection* on stdio and SSE, once per process on streamable
HTTP, and once per `Client(server)` in memory. With a plain lifespan, every SSE connection would
get its own client and (worse) its own empty embedded sandbox. The runtime is opened by the first
holder and closed by the last; the HTTP/SSE runner holds it for the whole process lifetime.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import Prompt as MCPPrompt
from mcp.types import Tool as MCPTool

from capacities_mcp import __version__
from capacities_mcp._environment import ENV_API_TOKEN, ENV_PROMPTS_DIR

from ._connection import WRITE_SCOPE, Connection
from ._http import HEALTH_PATH
from ._logging import reclaim_uvicorn_loggers, redact
from ._serving import ServerUnavailable
from ._settings import Settings
from .tools import READ_ONLY_TOOLS as _READ_ONLY_NAMES
from .tools import ToolServer, register_tools, select_tools

if TYPE_CHECKING:
    from capacities_mcp.api import CapacitiesClient
    from capacities_mcp.mirror import Mirror
    from capacities_mcp.sandbox import SandboxServer

    from ._state import ServerState

__all__ = [
    "SANDBOX_NOTE",
    "SERVER_NAME",
    "App",
    "CapacitiesMCPServer",
    "build_app",
    "build_server",
    "populate",
    "server_instructions",
    "server_options",
]

SERVER_NAME = "capacities"

SANDBOX_NOTE = (
    "This server is connected to a LOCAL SANDBOX with demo data, not to the user's real "
    "Capacities space: nothing read or written here reaches Capacities, and the data is lost "
    "when the server stops."
)

_log = logging.getLogger("capacities_mcp.server")

HANDSHAKE_GRACE = 2.0
"""Seconds the start-up check waits for tools/list before it runs anyway (an HTTP server with no
client yet, a client that never lists tools)."""
ANSWER_FLUSH = 0.05
"""Seconds for an answer to reach the transport's writer before background work takes the loop."""


class _Runtime:
    """The process-wide resources: the shared client and, without credentials, the sandbox.

    The lifespan yields it as the requests' `StateHolder`: tool calls wait in `opened()`.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._users = 0
        self._lock: anyio.Lock | None = None
        self._state: ServerState | None = None
        self._sandbox: SandboxServer | None = None
        self._mirror_running = False
        # Told of every change of the credentials' state (build_app refreshes the instructions).
        self.connection_listeners: list[Callable[[Connection], None]] = []
        # Run once the state has opened, before the agent's first call if it comes late enough
        # (build_app loads the tools' call path there).
        self.warm_ups: list[Callable[[], object]] = []
        self._handshake_done: anyio.Event | None = None

    @property
    def state(self) -> ServerState:
        """The live state; only valid once opened and while somebody holds the runtime."""
        if self._state is None:
            raise RuntimeError("the Capacities runtime is not open (no MCP session is running)")
        return self._state

    def current_state(self) -> ServerState | None:
        """The live state, or None while it is not open."""
        return self._state

    async def opened(self) -> ServerState:
        """The live state, opened now if the handshake has not opened it yet.

        Raises `ServerUnavailable` (the cause chained) when it cannot be opened; the next call
        tries again."""
        async with self._the_lock():
            if self._state is None:
                if self._users == 0:
                    raise RuntimeError("the Capacities runtime is not held (no MCP session is running)")
                try:
                    await self._open()
                except Exception as exc:
                    raise ServerUnavailable(f"{type(exc).__name__}: {redact(str(exc))}") from exc
        return self.state

    @property
    def sandbox_url(self) -> str | None:
        return self._sandbox.base_url if self._sandbox is not None else None

    def _the_lock(self) -> anyio.Lock:
        if self._lock is None:
            self._lock = anyio.Lock()
        return self._lock

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[_Runtime]:
        """Borrow the runtime; it opens after the handshake or on first use, the last holder closes it."""
        lock = self._the_lock()
        async with lock:
            self._users += 1
        if self._handshake_done is None:
            self._handshake_done = anyio.Event()
        try:
            async with anyio.create_task_group() as background:
                background.start_soon(self._open_after_handshake)
                try:
                    yield self
                finally:
                    background.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                async with lock:
                    self._users -= 1
                    if self._users == 0:
                        await self._close()

    async def _open_after_handshake(self) -> None:
        """Open once the handshake is over, then check the credentials and run the mirror."""
        await self._after_handshake()
        try:
            await self.opened()
        except ServerUnavailable as exc:  # said once here, and by every call until it opens
            _log.error("could not open the connection to Capacities (%s); each call says so and retries", exc)
            _log.debug("the runtime failed to open", exc_info=True)
            return
        for warm_up in self.warm_ups:
            warm_up()
        async with anyio.create_task_group() as background:
            background.start_soon(self._check_connection)
            background.start_soon(self._keep_mirror_running)

    async def _open(self) -> None:
        """The state, or (on any failure) nothing: an embedded sandbox already started is stopped."""
        try:
            self._state = await self._new_state()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._stop_sandbox()
            raise

    async def _new_state(self) -> ServerState:
        from ._state import ServerState, SpaceCache

        settings = self._settings
        note: str | None = None
        if settings.backend == "sandbox":
            from capacities_mcp.sandbox import SandboxConfig, SandboxServer

            # Known before it starts: a session that ends meanwhile (the open runs after the
            # handshake now) still stops it in `_close`.
            sandbox = self._sandbox = SandboxServer(SandboxConfig(host="127.0.0.1", port=0))
            await anyio.to_thread.run_sync(sandbox.start)
            reclaim_uvicorn_loggers()
            client = settings.client_for(base_url=sandbox.base_url, api_token=sandbox.api_token)
            note = SANDBOX_NOTE
            _log.warning(
                "embedded sandbox running at %s. Demo data only; set CAPACITIES_API_TOKEN or "
                "run 'capacities-mcp auth login' to use your own space.",
                sandbox.base_url,
            )
        else:
            client = settings.client_for()
        mirror = self._mirror_for(client, embedded=settings.backend == "sandbox")
        state = ServerState(client=client, space=SpaceCache(client), sandbox_note=note, mirror=mirror)
        connection = state.connection
        connection.log_changes = settings.backend != "sandbox"  # the sandbox said what it is
        if lacks_write_scope(settings):
            connection.refuse_writes(f"the stored sign-in lacks {WRITE_SCOPE}", announce=False)
        for listener in self.connection_listeners:
            connection.on_change(listener)
        return state

    def tools_listed(self) -> None:
        """The client has its tool list: the handshake is over, background work may start."""
        if self._handshake_done is not None:
            self._handshake_done.set()

    async def _after_handshake(self) -> None:
        """Until tools/list has been answered (or a grace period passed): opening the state and
        the check's first request load the client and its HTTP stack, which must not hold up the
        host's handshake."""
        assert self._handshake_done is not None
        with anyio.move_on_after(HANDSHAKE_GRACE):
            await self._handshake_done.wait()
        await anyio.sleep(ANSWER_FLUSH)  # the tools/list answer is written out first

    async def _check_connection(self) -> None:
        """The credentials, checked once per runtime in the background: the handshake never
        waits for it, and its one log line comes as soon as the API has answered."""
        state = self._state
        if state is not None and state.connection.status == "unchecked":
            await state.connection.check(state.space)

    def _mirror_for(self, client: CapacitiesClient, *, embedded: bool) -> Mirror | None:
        """The local mirror: on by default, in memory for the embedded sandbox's demo space."""
        if not self._settings.mirror:
            return None
        from capacities_mcp.mirror import MEMORY, Mirror, MirrorOptions

        return Mirror(client, MirrorOptions(location=MEMORY if embedded else self._settings.mirror_dir))

    async def _keep_mirror_running(self) -> None:
        """The mirror's crawl, in one holder's task group at a time (another takes over when that
        holder leaves). It starts after a delay or the agent's first call, so the MCP handshake
        never waits for it, and a failure in it never takes the server down."""
        while self._state is not None and self._state.mirror is not None:
            if not self._mirror_running:
                self._mirror_running = True
                try:
                    await self._state.mirror.run()
                except Exception:
                    _log.warning("the mirror stopped; it restarts in a minute", exc_info=True)
                    await anyio.sleep(60.0)
                finally:
                    self._mirror_running = False
            await anyio.sleep(1.0)

    async def _close(self) -> None:
        state, self._state = self._state, None
        try:
            if state is not None:
                if state.mirror is not None:
                    await state.mirror.close()
                await state.client.aclose()
        finally:
            await self._stop_sandbox()

    async def _stop_sandbox(self) -> None:
        sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None:
            await anyio.to_thread.run_sync(sandbox.stop)


@dataclass(frozen=True)
class App:
    """A built server plus the runtime the HTTP runner holds open for the process lifetime."""

    server: CapacitiesMCPServer
    runtime: _Runtime
    settings: Settings
    tool_names: tuple[str, ...]

    @property
    def prompt_names(self) -> tuple[str, ...]:
        return self.server.prompt_names


def lacks_write_scope(settings: Settings) -> bool:
    """A stored OAuth sign-in whose granted scopes are known and do not include api:write."""
    stored = settings.stored_credentials
    if settings.backend != "stored" or getattr(stored, "kind", None) != "oauth":
        return False
    scopes = tuple(getattr(stored, "scopes", ()) or ())
    return bool(scopes) and WRITE_SCOPE not in scopes


def api_url(settings: Settings) -> str | None:
    """The API URL a credentialed server talks to (None for the sandbox and multi-user mode)."""
    from capacities_mcp.api import DEFAULT_BASE_URL

    if settings.backend not in ("env", "stored"):
        return None
    stored = getattr(settings.stored_credentials, "base_url", None)
    return settings.api_url or (stored if settings.backend == "stored" else None) or DEFAULT_BASE_URL


def _backend_line(settings: Settings) -> list[str]:
    url = api_url(settings)
    if url is None:
        return []
    env = settings.backend == "env"
    how = f"token from {ENV_API_TOKEN}" if env else "signed in with capacities-mcp auth login"
    return [f"- Backend: the Capacities API at {url} ({how})."]


def _connection_lines(connection: Connection | None) -> list[str]:
    """What the start-up check found (the SDK hands these to clients that connect after it)."""
    if connection is None:
        return []
    notice = connection.notice()
    if notice is not None:
        return ["", f"PROBLEM: {notice} Tool calls fail until it is fixed: tell the user."]
    if connection.status == "ok" and connection.space_title:
        return [f'- Connected to the space "{connection.space_title}".']
    return []


def server_instructions(
    settings: Settings, tool_names: tuple[str, ...], connection: Connection | None = None
) -> str:
    """What an agent reads once, at connection time: how to use the tools well.

    Built from the tools actually registered, so a read-only or trimmed server never advertises
    a tool the agent cannot call; write tools withdrawn for a missing api:write (`connection`)
    are left out too, and the credentials' state is said when known.
    """
    writes_refused = lacks_write_scope(settings) or (connection is not None and connection.writes_refused)
    if writes_refused:
        tool_names = tuple(name for name in tool_names if name in _READ_ONLY_NAMES)
    has = set(tool_names).__contains__
    lines = [
        "Capacities is a note-taking app where everything is an object (pages, people, tasks, "
        "books, daily notes, ...). Each object has a structure (its type), properties and "
        "Markdown content. These tools work on ONE Capacities space.",
        "",
        "How to work well here:",
    ]
    if has("get_space"):
        lines.append(
            "- Start with get_space: it lists the structures (object types) with their ids, "
            "properties and label options. Use those names and ids; do not guess them."
        )
    finders = [name for name in ("search_objects", "list_objects") if has(name)]
    if finders:
        lines.append(
            f"- Find before you read or create: {' / '.join(finders)} "
            + (
                "(search matches words in titles and content). "
                if settings.mirror
                else "(search matches titles only). "
            )
            + "Creating a second object with the same title makes a duplicate the user has to clean up."
        )
    if has("get_object"):
        lines.append("- get_object reads one object as Markdown; long content comes in pages.")
    if has("query_objects") and settings.mirror:
        lines.append(
            "- query_objects filters and sorts one structure by property values in one call "
            "(e.g. open tasks due this week by priority)."
        )
    writes = [name for name in tool_names if name not in _READ_ONLY_NAMES]
    if writes:
        lines.append(
            "- Write content as Markdown (headings, lists, - [ ] checkboxes, links). Prefer "
            "adding to an existing object"
            + (" with append_blocks" if has("append_blocks") else "")
            + " over creating or rewriting one."
        )
        extras = []
        if has("save_weblink"):
            extras.append("web pages: save_weblink")
        if has("append_to_daily_note"):
            extras.append("today's notes: append_to_daily_note")
        if extras:
            lines.append("- Special cases: " + "; ".join(extras) + ".")
        lines.append("- Changes are real and immediate. Tell the user what you changed (titles and ids).")
    elif writes_refused:
        lines.append(f"- This server is READ-ONLY: the credentials lack {WRITE_SCOPE}.")
    else:
        lines.append("- This server is READ-ONLY: it cannot change the space.")
    lines.append("- Results are compact by design; ask for more (next page, full content) only when needed.")
    lines += _backend_line(settings) + _connection_lines(connection)
    if settings.backend == "sandbox":
        lines += ["", "NOTE: " + SANDBOX_NOTE]
    return "\n".join(lines)


class CapacitiesMCPServer(ToolServer):
    """`MCPServer` with a proper error for an unknown prompt name.

    The SDK answers an unknown prompt with JSON-RPC code 0 (and, in memory, a bare "Internal
    server error"); the spec says invalid params (-32602), and the model is better served by the
    list of prompts that do exist.
    """

    on_tools_listed: Callable[[], None] | None = None
    _register_prompts: Callable[[], Sequence[str]] | None = None
    _prompt_names: tuple[str, ...] | None = None

    def prompts_from(self, register: Callable[[], Sequence[str]]) -> None:
        """Prompts that `register` puts on the server on first use: their YAML front matter
        need not be read (nor the YAML parser loaded) before a client asks for them."""
        self._register_prompts, self._prompt_names = register, None

    @property
    def prompt_names(self) -> tuple[str, ...]:
        """The names of the prompts served (registering them now if need be)."""
        if self._prompt_names is None:
            register = self._register_prompts
            self._prompt_names = tuple(register()) if register is not None else ()
        return self._prompt_names

    async def list_prompts(self) -> list[MCPPrompt]:
        _ = self.prompt_names
        return await super().list_prompts()

    async def list_tools(self) -> list[MCPTool]:
        tools = await super().list_tools()
        if self.on_tools_listed is not None:
            self.on_tools_listed()
        return tools

    async def get_prompt(
        self, name: str, arguments: dict[str, Any] | None = None, context: Any = None
    ) -> Any:
        prompts = await self.list_prompts()
        if name not in {p.name for p in prompts}:
            known = ", ".join(p.name for p in prompts) or "none"
            raise MCPError(code=-32602, message=f"Unknown prompt: {name}. Available prompts: {known}.")
        return await super().get_prompt(name, arguments, context)


def server_options(settings: Settings) -> dict[str, Any]:
    """The constructor arguments every variant of the server shares (name, version, instructions).

    The instructions depend on which tools are registered, so the selection comes first.
    Raises ValueError for unknown tool or toolset names.
    """
    selected = tuple(
        select_tools(
            read_only=settings.read_only,
            tools=list(settings.tools) if settings.tools is not None else None,
            toolsets=list(settings.toolsets) if settings.toolsets is not None else None,
        )
    )
    return {
        "name": SERVER_NAME,
        "title": "Capacities",
        "version": __version__,
        "website_url": "https://capacities.io",
        "instructions": server_instructions(settings, selected),
    }


def populate(
    server: CapacitiesMCPServer, settings: Settings, get_state: Callable[[], Awaitable[ServerState]]
) -> tuple[str, ...]:
    """Register the tools (per the settings), prompts, resources and /health on `server`.

    `get_state` gives the resources their state (the tools find theirs through the context).
    Returns the names of the tools registered. The shipped prompts are registered on first use;
    the user's own (CAPACITIES_MCP_PROMPTS_DIR) now, so a mistake in them stops the start.
    """
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response

    from ._resources import register_resources

    tool_names = tuple(
        register_tools(
            server,
            read_only=settings.read_only,
            tools=list(settings.tools) if settings.tools is not None else None,
            toolsets=list(settings.toolsets) if settings.toolsets is not None else None,
            structured_output=settings.structured_output,
            mirror=settings.mirror,
        )
    )

    def prompts() -> list[str]:
        from ._prompts import register_prompts

        return register_prompts(server, available_tools=tool_names)

    server.prompts_from(prompts)
    if os.environ.get(ENV_PROMPTS_DIR):
        _ = server.prompt_names
    register_resources(server, get_state)

    @server.custom_route(HEALTH_PATH, methods=["GET"])  # type: ignore[untyped-decorator]
    async def health(_request: Request) -> Response:
        """Liveness for load balancers and scripts: no secrets, no upstream call."""
        return JSONResponse(
            {"status": "ok", "server": SERVER_NAME, "version": __version__, "backend": settings.backend}
        )

    return tool_names


def build_app(settings: Settings) -> App:
    """Assemble the server: tools (per the settings), prompts, resources, /health, lifespan.

    Raises ValueError for unknown tool or toolset names (the CLI turns that into exit code 2).
    """
    runtime = _Runtime(settings)

    @asynccontextmanager
    async def lifespan(_server: MCPServer[Any]) -> AsyncIterator[_Runtime]:
        async with runtime.hold() as held:
            yield held

    server = CapacitiesMCPServer(**server_options(settings), lifespan=lifespan)
    tool_names = populate(server, settings, runtime.opened)
    server.state_source = runtime.current_state
    server.writes_refused_at_start = lacks_write_scope(settings)
    server.on_tools_listed = runtime.tools_listed
    runtime.warm_ups.append(lambda: server.catalog)

    def refresh_instructions(connection: Connection) -> None:
        # Clients that connect (or discover) after this read it; on stdio the one client has
        # already got the static text, so each tool result carries the news instead.
        server.set_instructions(server_instructions(settings, tool_names, connection))

    runtime.connection_listeners.append(refresh_instructions)
    return App(server, runtime, settings, tool_names)


def build_server(settings: Settings) -> CapacitiesMCPServer:
    """The MCP server for these settings (see `build_app` for what is registered)."""
    return build_app(settings).server
