"""`CapacitiesClient`: the async Python twin of the official `@capacities/api` client.

Every method is a one-liner over the route table (`_routes.py`). `_Transport.call` does the rest,
in this order: validate the input with the route's model (no request leaves with bad input), wait
for the route's rate-limit quota, add the bearer token, send, then handle what came back:

* 401 with OAuth: refresh once (single-flight) and retry once.
* 429: wait for the reset and retry, within `max_rate_limit_wait` seconds in all; the request was
  not processed, so this is safe for writes too.
* connection failed before the request was sent: retried for every method, except while the API
  is known to be unreachable (the last request could not be sent even after its retries): then one
  quick try, so a wrong URL or a dead network fails each call at once instead of after a second.
* timeout, dropped connection or 5xx: retried with backoff and jitter for reads only. Writes
  (create, append, update, delete) are never resent once they may have reached the API.
* every error raised for a write says whether it may have been applied (`maybe_applied`): true
  after a 5xx, an unreadable answer, a dropped connection or a timeout; false only when nothing
  can have changed.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

import anyio
import anyio.to_thread
import httpx2
from pydantic import BaseModel, ValidationError

from .. import __version__
from ._auth import OAuthCredential, OAuthTokenManager, OAuthTokens
from ._endpoint import API_VERSION, API_VERSION_HEADER, DEFAULT_BASE_URL
from ._errors import CAP_UNKNOWN, CapacitiesApiError, CapacitiesConnectionError, CapacitiesError
from ._ratelimit import RateLimiter, parse_rate_limit, parse_retry_after
from ._routes import ROUTES_BY_NAME, Route
from ._shared_limits import QuotaStore, SharedRateLimiter
from ._validation import CapacitiesValidationError, Issue, issues_from
from .models import (
    ApiObject,
    MediaUploadPart,
    MediaUploadSession,
    ObjectListPage,
    ObjectMarkdown,
    ObjectSummary,
    SearchResponse,
    Space,
    StructuresResponse,
    wire,
)

__all__ = ["CapacitiesClient", "Observer"]

USER_AGENT = f"capacities-mcp/{__version__} (+https://github.com/capacities-mcp)"

_BACKOFF_CAP = 8.0  # seconds

Input = BaseModel | Mapping[str, Any] | None

# Told of every finished call: (route, validated input, parsed result or None, error or None).
# A local mirror uses it to write through what the server reads and writes.
Observer = Callable[[Route, BaseModel | None, Any, CapacitiesError | None], Awaitable[None]]

_log = logging.getLogger("capacities_mcp.api")

# Raised by httpx2 when nothing was sent: always safe to try again. Any other request error
# (read timeout, dropped connection, a body cut short) may come after the API got the request.
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)
# Answers in which the API itself refused the request, so nothing changed (with its error body).
_REFUSED_STATUSES = frozenset({400, 401, 403, 404, 413})


def _no_route_to_api(exc: CapacitiesConnectionError) -> bool:
    """No connection could be made (refused, connect timeout); a full local pool is not that."""
    return not exc.request_sent and not isinstance(exc.__cause__, httpx2.PoolTimeout)


def _may_have_reached_the_api(exc: CapacitiesError) -> bool:
    """False only for failures proven to have changed nothing; anything unsure counts as reached.

    Proven: never sent (connection refused, connect timeout), a 429 (ours or the API's), the API's
    own refusal (400/401/403/404/413 with its error body), bad input, a failed sign-in. Not
    proven: any 5xx (503 with Retry-After too), a 2xx whose body is unreadable, a dropped
    connection or a read timeout after sending, any other status or body.
    """
    if isinstance(exc, CapacitiesConnectionError):
        return exc.request_sent
    if isinstance(exc, CapacitiesApiError):
        refused = exc.status in _REFUSED_STATUSES and exc.api_error_body
        return not (exc.status == 429 or refused)
    return False  # validation and OAuth errors: raised before this request was sent


@dataclass(frozen=True)
class _Outgoing:
    """A request ready to send (everything but the token, which may change on refresh)."""

    url: str
    query: dict[str, str] | None
    body: bytes | None
    headers: dict[str, str]

    @classmethod
    def build(
        cls, base_url: str, route: Route, model: BaseModel | None, content: bytes | None = None
    ) -> _Outgoing:
        """`content`: the raw body of a `raw_body` route (a media part)."""
        query: dict[str, str] | None = None
        body: bytes | None = None
        headers: dict[str, str] = {}
        if route.raw_body:
            body = content or b""
            headers["Content-Type"] = "application/octet-stream"
        if route.params is not None and model is not None:
            query = {
                key: ("true" if value is True else "false" if value is False else str(value))
                for key, value in wire(model).items()
                if value is not None
            }
        if route.body is not None and model is not None:
            body = json.dumps(wire(model), ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        return cls(base_url + route.path, query, body, headers)


# Responses larger than this are parsed in a worker thread (a typical object is a few KB).
_PARSE_INLINE_BYTES = 256 * 1024


class _Transport:
    """Sends one route's request with auth, rate limits, refresh and retries."""

    def __init__(
        self,
        *,
        base_url: str,
        api_token: str | None,
        oauth: OAuthCredential | None,
        api_version: str,
        timeout: float,
        max_rate_limit_wait: float,
        max_retries: int,
        backoff_base: float,
        transport: httpx2.AsyncBaseTransport | None,
        shared_quotas: QuotaStore | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx2.AsyncClient(
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT, API_VERSION_HEADER: api_version},
        )
        self.api_token = api_token
        self.oauth = OAuthTokenManager(oauth, f"{self.base_url}/oauth/token", self.http) if oauth else None
        self.limiter = RateLimiter()
        # Remote replicas of one token count its quotas together; otherwise this process alone.
        self.shared_limiter = SharedRateLimiter(shared_quotas) if shared_quotas is not None else None
        self.max_rate_limit_wait = max_rate_limit_wait
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.observers: list[Observer] = []
        # Set when a request could not be sent even after its retries; cleared by any answer.
        self.unreachable = False

    async def token(self) -> str:
        if self.oauth is not None:
            return await self.oauth.access_token()
        assert self.api_token is not None
        return self.api_token

    def validate(self, route: Route, given: Input, fields: Mapping[str, Any]) -> BaseModel | None:
        model_type = route.request_model
        if model_type is None:
            return None
        if isinstance(given, model_type) and not fields:
            return given
        data: dict[str, Any] = {}
        if given is not None:
            data.update(_plain(given))
        # Keyword arguments arrive in snake_case; validate them under their wire names so that
        # error paths read `structureIds`, `blockId`, ... exactly as the API would report them.
        names = model_type.model_fields
        data.update(
            {
                (names[k].alias or k) if k in names else k: _plain(v)
                for k, v in fields.items()
                if v is not None
            }
        )
        try:
            # Strict, like the official zod schemas and our sandbox: `"3"` is not a number and
            # `"yes"` not a boolean. Query models turn their own wire strings ("true", "25")
            # into values before the strict check, so both Python values and query-string
            # spellings work for `hard_delete`, `page_size`, ...
            return model_type.model_validate(data, strict=True)
        except ValidationError as exc:
            raise CapacitiesValidationError(issues_from(exc), what=f"{route.name} input") from None

    async def call(
        self, route: Route, given: Input = None, fields: Mapping[str, Any] = {}, content: bytes | None = None
    ) -> Any:
        model = self.validate(route, given, fields)
        try:
            result = await self._exchange(route, _Outgoing.build(self.base_url, route, model, content))
        except CapacitiesError as exc:
            await self._notify(route, model, None, exc)
            raise
        await self._notify(route, model, result, None)
        return result

    async def _notify(
        self, route: Route, model: BaseModel | None, result: Any, error: CapacitiesError | None
    ) -> None:
        """Observers never change the outcome of a call: their failures are logged, not raised."""
        for observer in self.observers:
            try:
                await observer(route, model, result, error)
            except Exception:
                _log.warning("an observer of %s failed", route.name, exc_info=True)

    # The request path, outermost first. Each layer has one job and calls the next:
    # _exchange (parse; judge maybe_applied) -> _send_with_retries (resend what is safe to resend)
    # -> _send_authenticated (token, OAuth refresh) -> _send_within_quota (rate-limit waits, 429s)
    # -> _send_once (one HTTP exchange). Every resend goes through the quota.

    async def _exchange(self, route: Route, outgoing: _Outgoing) -> Any:
        """Send and parse: the one place that decides whether a failed write may have applied."""
        try:
            response = await self._send_with_retries(route, outgoing)
            if len(response.content) < _PARSE_INLINE_BYTES:
                return self._parse(route, response)
            # A large object (tens of thousands of blocks) takes seconds to validate: off the event
            # loop, so every other call of this process keeps being served meanwhile.
            return await anyio.to_thread.run_sync(self._parse, route, response)
        except CapacitiesError as exc:
            exc.maybe_applied = not route.idempotent and _may_have_reached_the_api(exc)
            raise

    async def _send_with_retries(self, route: Route, outgoing: _Outgoing) -> httpx2.Response:
        """Send again only what cannot apply twice: a request that never left, or a read."""
        quota_deadline = time.monotonic() + self.max_rate_limit_wait
        attempt = 0
        while True:
            try:
                response = await self._send_authenticated(route, outgoing, quota_deadline)
            except CapacitiesConnectionError as exc:
                if _no_route_to_api(exc) and (self.unreachable or attempt >= self.max_retries):
                    self.unreachable = True  # still down: the next call tries once, then says so
                    raise
                if attempt >= self.max_retries or (exc.request_sent and not route.idempotent):
                    raise
                attempt += 1
                await anyio.sleep(self._backoff(attempt))
                continue
            if response.status_code >= 500 and route.idempotent and attempt < self.max_retries:
                attempt += 1
                # A 503 may say when to come back; honour it, but never beyond the backoff cap.
                hinted = parse_retry_after(response.headers) or 0.0
                await anyio.sleep(min(_BACKOFF_CAP, max(self._backoff(attempt), hinted)))
                continue
            if not response.is_success:
                raise self._error(response, route, retry_after=parse_retry_after(response.headers))
            return response

    async def _send_authenticated(
        self, route: Route, outgoing: _Outgoing, deadline: float
    ) -> httpx2.Response:
        """Send with the bearer token; on a 401 with OAuth, refresh once and send again."""
        token = await self.token()
        response = await self._send_within_quota(route, outgoing, token, deadline)
        if response.status_code == 401 and self.oauth is not None:
            await self.oauth.refresh(stale_access_token=token)
            response = await self._send_within_quota(route, outgoing, await self.token(), deadline)
        return response

    async def _send_within_quota(
        self, route: Route, outgoing: _Outgoing, token: str, deadline: float
    ) -> httpx2.Response:
        """Wait for the route's quota (until `deadline`) and sit out 429s; nothing else."""
        shared = self.shared_limiter
        while True:
            too_long = await (shared or self.limiter).acquire(route.key, deadline)
            if too_long is not None:
                raise CapacitiesApiError(
                    429,
                    "cap_rate_limit_exceeded",
                    f"Rate limit for {route.key} is used up; the quota resets in {too_long:.0f} s",
                    retry_after=too_long,
                    route=route.name,
                )
            ticket = self.limiter.ticket(route.key) if shared is None else None
            response = await self._send_once(route, outgoing, token)
            if shared is None:
                self.limiter.update(route.key, parse_rate_limit(response.headers), ticket)
            else:
                await shared.update(route.key, parse_rate_limit(response.headers))
            if response.status_code != 429:
                return response
            wait = self._retry_after(response)
            if shared is None:
                self.limiter.exhaust(route.key, wait)
            else:
                await shared.exhaust(route.key, wait)
            if time.monotonic() + wait > deadline:
                raise self._error(response, route, retry_after=wait)
            # The next `acquire` sits out the exhausted quota, reporting the wait like any other.

    async def _send_once(self, route: Route, outgoing: _Outgoing, token: str) -> httpx2.Response:
        """One HTTP exchange; transport failures say whether the request can have left."""
        try:
            response = await self.http.request(
                route.method,
                outgoing.url,
                params=outgoing.query,
                content=outgoing.body,
                headers={**outgoing.headers, "Authorization": f"Bearer {token}"},
            )
            self.unreachable = False
            return response
        except _NOT_SENT as exc:
            raise CapacitiesConnectionError(
                f"Could not reach the Capacities API at {self.base_url} "
                f"({type(exc).__name__}); nothing was sent",
                request_sent=False,
                route=route.name,
            ) from exc
        except httpx2.RequestError as exc:
            raise CapacitiesConnectionError(
                f"No answer from the Capacities API ({type(exc).__name__})",
                request_sent=True,
                route=route.name,
            ) from exc

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: between half and all of base*2^(attempt-1), capped."""
        ceiling = min(_BACKOFF_CAP, self.backoff_base * (2.0 ** (attempt - 1)))
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    @staticmethod
    def _retry_after(response: httpx2.Response, default: float = 1.0) -> float:
        """How long a 429 asks us to wait: Retry-After or the window reset, whichever is later."""
        after: float | None = parse_retry_after(response.headers)
        state = parse_rate_limit(response.headers)
        if state is not None and state.reset is not None:
            after = max(after or 0.0, state.reset)
        return after if after is not None else default

    @staticmethod
    def _error(response: httpx2.Response, route: Route, *, retry_after: float | None) -> CapacitiesApiError:
        return CapacitiesApiError.from_response(
            response.status_code,
            response.text,
            reason=response.reason_phrase,
            retry_after=retry_after,
            route=route.name,
        )

    @staticmethod
    def _parse(route: Route, response: httpx2.Response) -> Any:
        if route.response is None:
            return None
        try:
            # pydantic parses and validates the bytes in one pass.
            return route.response.model_validate_json(response.content)
        except ValidationError as exc:
            if any(error["type"] == "json_invalid" for error in exc.errors(include_url=False)):
                raise CapacitiesApiError(
                    response.status_code,
                    CAP_UNKNOWN,
                    "Invalid JSON in response body",
                    route=route.name,
                ) from None
            issues = issues_from(exc)[:5]
            raise CapacitiesApiError(
                response.status_code,
                CAP_UNKNOWN,
                "Response did not match the expected schema: "
                + "; ".join(f"{i.dotted_path}: {i.message}" for i in issues),
                route=route.name,
            ) from None


def _plain(value: Any) -> Any:
    """Input as the JSON the API will see: models in wire form, tuples as lists.

    Validation then judges exactly what zod would, whether a caller passed dicts or (nested)
    model instances of any of our classes.
    """
    if isinstance(value, BaseModel):
        return wire(value)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


class _Namespace:
    def __init__(self, transport: _Transport) -> None:
        self._t = transport

    async def _call(self, name: str, given: Input = None, **fields: Any) -> Any:
        return await self._t.call(ROUTES_BY_NAME[name], given, fields)


class SpaceApi(_Namespace):
    async def get(self) -> Space:
        """The space this token belongs to (10 requests a minute)."""
        return cast(Space, await self._call("space.get"))

    async def structures(self) -> StructuresResponse:
        """Object types with their property definitions and collections (10 a minute: cache it)."""
        return cast(StructuresResponse, await self._call("space.structures"))


class ObjectMarkdownApi(_Namespace):
    async def get(self, id: str) -> ObjectMarkdown:
        return cast(ObjectMarkdown, await self._call("object.markdown.get", id=id))

    async def create(self, body: Input = None, /, **fields: Any) -> ApiObject:
        """New object from Markdown: a leading `# H1` becomes the title."""
        return cast(ApiObject, await self._call("object.markdown.create", body, **fields))

    async def update(self, body: Input = None, /, **fields: Any) -> ApiObject:
        """Outside the 1.0.0 contract: applies only the YAML front matter."""
        return cast(ApiObject, await self._call("object.markdown.update", body, **fields))


class ObjectApi(_Namespace):
    def __init__(self, transport: _Transport) -> None:
        super().__init__(transport)
        self.markdown = ObjectMarkdownApi(transport)

    async def get(self, id: str) -> ApiObject:
        return cast(ApiObject, await self._call("object.get", id=id))

    async def create(self, body: Input = None, /, **fields: Any) -> ApiObject:
        return cast(ApiObject, await self._call("object.create", body, **fields))

    async def update(self, body: Input = None, /, **fields: Any) -> ApiObject:
        return cast(ApiObject, await self._call("object.update", body, **fields))

    async def delete(self, id: str, hard_delete: bool | None = None) -> None:
        """Move to trash, or delete for good with `hard_delete=True`."""
        await self._call("object.delete", id=id, hard_delete=hard_delete)

    async def create_from_url(self, body: Input = None, /, **fields: Any) -> ApiObject:
        return cast(ApiObject, await self._call("object.create_from_url", body, **fields))


_LISTING_ROUTES = {"structure": "objects.structure", "tag": "objects.tag", "collection": "objects.collection"}


class ObjectsApi(_Namespace):
    async def search(self, body: Input = None, /, **fields: Any) -> SearchResponse:
        """Title search, by relevance: `query`, optional `structure_ids`, `limit` <= 50."""
        return cast(SearchResponse, await self._call("objects.search", body, **fields))

    async def structure(
        self, structure_id: str, page_size: int | None = None, cursor: str | None = None
    ) -> ObjectListPage:
        """One page of a structure's objects (outside the 1.0.0 contract)."""
        return await self._page("structure", structure_id, page_size, cursor)

    async def tag(
        self, tag_id: str, page_size: int | None = None, cursor: str | None = None
    ) -> ObjectListPage:
        """One page of the objects with a tag (outside the 1.0.0 contract)."""
        return await self._page("tag", tag_id, page_size, cursor)

    async def collection(
        self, collection_id: str, page_size: int | None = None, cursor: str | None = None
    ) -> ObjectListPage:
        """One page of a collection's objects (outside the 1.0.0 contract)."""
        return await self._page("collection", collection_id, page_size, cursor)

    async def iterate(self, kind: str, id: str, page_size: int | None = None) -> AsyncIterator[ObjectSummary]:
        """Every object of a structure, tag or collection (`kind`), following the cursor."""
        cursor: str | None = None
        while True:
            page = await self._page(kind, id, page_size, cursor)
            for summary in page.results:
                yield summary
            if not page.has_more or not page.next_cursor:
                return
            cursor = page.next_cursor

    async def _page(self, kind: str, id: str, page_size: int | None, cursor: str | None) -> ObjectListPage:
        if kind not in _LISTING_ROUTES:
            wanted = f"kind must be one of {', '.join(_LISTING_ROUTES)}, not {kind!r}"
            raise CapacitiesValidationError([Issue(("kind",), wanted)], what="listing")
        return cast(
            ObjectListPage,
            await self._call(_LISTING_ROUTES[kind], id=id, page_size=page_size, cursor=cursor),
        )


class DailyNoteApi(_Namespace):
    async def append(self, body: Input = None, /, **fields: Any) -> None:
        """Accepted for asynchronous processing: the content appears a little later."""
        await self._call("blocks.daily_note.append", body, **fields)


class BlockApi(_Namespace):
    async def update(self, body: Input = None, /, **fields: Any) -> ApiObject:
        return cast(ApiObject, await self._call("blocks.block.update", body, **fields))

    async def delete(self, object_id: str, block_id: str) -> ApiObject:
        """Delete a block and everything nested in it."""
        return cast(
            ApiObject,
            await self._call("blocks.block.delete", object_id=object_id, block_id=block_id),
        )


class BlocksApi(_Namespace):
    def __init__(self, transport: _Transport) -> None:
        super().__init__(transport)
        self.daily_note = DailyNoteApi(transport)
        self.block = BlockApi(transport)

    async def append(self, body: Input = None, /, **fields: Any) -> ApiObject:
        """Append `blocks` or `markdown` (exactly one) at `position` (default: end)."""
        return cast(ApiObject, await self._call("blocks.append", body, **fields))


# Told after each part of a media upload: (parts sent, parts in all).
PartProgress = Callable[[int, int], Awaitable[None]]


class MediaApi(_Namespace):
    """Media upload (outside the 1.0.0 contract): `upload` does it all; the steps are here too."""

    async def start(self, body: Input = None, /, **fields: Any) -> MediaUploadSession:
        """Open a session: `file_name`, `file_size`, optional `file_type`, `title`, `collections`."""
        return cast(MediaUploadSession, await self._call("media.upload.start", body, **fields))

    async def part(self, id: str, part_number: int, data: bytes) -> MediaUploadPart:
        """Send part `part_number` (from 1): `part_size` bytes, the last part the rest."""
        route, fields = ROUTES_BY_NAME["media.upload.part"], {"id": id, "part_number": part_number}
        return cast(MediaUploadPart, await self._t.call(route, None, fields, data))

    async def complete(self, id: str) -> ApiObject:
        """Every part is in: the media object is created and returned."""
        return cast(ApiObject, await self._call("media.upload.complete", id=id))

    async def abort(self, id: str) -> None:
        """Drop an unfinished session and its parts."""
        await self._call("media.upload.abort", id=id)

    async def upload(
        self,
        file_name: str,
        data: bytes,
        *,
        file_type: str | None = None,
        title: str | None = None,
        collections: list[str] | None = None,
        on_part: PartProgress | None = None,
    ) -> ApiObject:
        """Upload `data` as a new media object: start, every part, complete.

        A failure after the start aborts the session (best effort: an unfinished session
        expires anyway) and re-raises. No object exists before `complete`, so a failed start or
        part says `maybe_applied=False`; a failed `complete` keeps its own verdict.
        """
        session = await self.start(
            file_name=file_name,
            file_size=len(data),
            file_type=file_type,
            title=title,
            collections=collections,
        )
        completing = False
        try:
            for number in range(1, session.part_count + 1):
                offset = (number - 1) * session.part_size
                await self.part(session.id, number, data[offset : offset + session.part_size])
                if on_part is not None:
                    await on_part(number, session.part_count)
            completing = True
            return await self.complete(session.id)
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await self._abort_quietly(session.id)
            if isinstance(exc, CapacitiesError) and not completing:
                exc.maybe_applied = False
            raise

    async def _abort_quietly(self, session_id: str) -> None:
        try:
            await self.abort(session_id)
        except CapacitiesError as exc:  # the session expires by itself; the first error matters
            _log.info("could not abort media upload %s: %s", session_id, exc)


class CapacitiesClient:
    """Async client for the Capacities API; use `async with` so its connections close.

    Give exactly one of `api_token` (a personal `cap-api-...` token) or `oauth`. With
    `shared_quotas`, rate-limit quotas are kept there, shared with every client of the same
    token that uses the same store (the replicas of a remote server), instead of in this client.
    """

    def __init__(
        self,
        *,
        api_token: str | None = None,
        oauth: OAuthCredential | None = None,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = API_VERSION,
        timeout: float = 30.0,
        max_rate_limit_wait: float = 30.0,
        max_retries: int = 2,
        backoff_base: float = 0.5,
        transport: httpx2.AsyncBaseTransport | None = None,
        shared_quotas: QuotaStore | None = None,
    ) -> None:
        if (api_token is None) == (oauth is None):
            raise ValueError("CapacitiesClient needs exactly one of `api_token` or `oauth`")
        if api_token is not None and not api_token.strip():
            raise ValueError("`api_token` is empty")
        self._transport = _Transport(
            base_url=base_url,
            api_token=api_token,
            oauth=oauth,
            api_version=api_version,
            timeout=timeout,
            max_rate_limit_wait=max_rate_limit_wait,
            max_retries=max_retries,
            backoff_base=backoff_base,
            transport=transport,
            shared_quotas=shared_quotas,
        )
        self.space = SpaceApi(self._transport)
        self.object = ObjectApi(self._transport)
        self.objects = ObjectsApi(self._transport)
        self.blocks = BlocksApi(self._transport)
        self.media = MediaApi(self._transport)

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def oauth_tokens(self) -> OAuthTokens | None:
        """The current OAuth token set (after any refresh); None with a personal token."""
        manager = self._transport.oauth
        return manager.tokens if manager is not None else None

    @property
    def oauth_manager(self) -> OAuthTokenManager | None:
        return self._transport.oauth

    def add_observer(self, observer: Observer) -> None:
        """Call `observer` after every request of this client (see `Observer`)."""
        self._transport.observers.append(observer)

    async def request(self, route: Route | str, body: Input = None, /, **fields: Any) -> Any:
        """Call any route of the table by name or `Route`; returns its parsed response model."""
        entry = ROUTES_BY_NAME[route] if isinstance(route, str) else route
        return await self._transport.call(entry, body, fields)

    async def aclose(self) -> None:
        await self._transport.http.aclose()

    async def __aenter__(self) -> CapacitiesClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        kind = "oauth" if self._transport.oauth else "api_token"
        return f"CapacitiesClient(base_url={self.base_url!r}, auth={kind})"
