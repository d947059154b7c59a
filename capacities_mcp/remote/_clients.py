"""Who the MCP clients are: dynamically registered (RFC 7591) or named by a Client ID Metadata
Document (an https `client_id` URL whose JSON describes the client).

A metadata document is fetched without redirects, within a size and time bound, and accepted
only when it names itself (`client_id` equal to its URL, character for character), lists its
redirect URIs and claims no client secret (anyone can publish one, so none can hold a secret).
Accepted documents are cached in the shared State, so replicas fetch each at most once an hour;
rejected ones are not remembered (nothing is stored for a bad input).

Off loopback, a document URL must be https and its host must resolve only to public addresses:
otherwise anyone could make this server fetch from the private network behind it. On a loopback
server (tests, a laptop) http URLs on loopback are accepted too.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx2
from mcp.shared.auth import OAuthClientInformationFull
from pydantic import ValidationError

from capacities_mcp.server import is_loopback

from ._settings import MCP_SCOPE, RemoteSettings
from ._state import State

__all__ = ["ClientDirectory", "ClientDocumentError"]

_log = logging.getLogger("capacities_mcp.remote")
_NS_CLIENT = "client"  # client_id -> registered client (JSON)
_NS_DOCUMENT = "client-doc"  # client_id URL -> validated metadata document (JSON)
_REGISTRATION_TTL = 365 * 86400.0
_SECRET_METHODS = ("client_secret_post", "client_secret_basic", "private_key_jwt")


class ClientDocumentError(ValueError):
    """A client id URL whose document cannot be used; the message says why (no secrets in it)."""


class ClientDirectory:
    """`get` and `register` for the authorization server, over the shared State."""

    def __init__(self, settings: RemoteSettings, state: State, http: httpx2.AsyncClient) -> None:
        self._settings = settings
        self._state = state
        self._http = http

    def is_document_url(self, client_id: str) -> bool:
        return client_id.startswith(("https://", "http://"))

    async def get(self, client_id: str) -> OAuthClientInformationFull | None:
        """The client, or None when unknown (or its document is unusable: logged, not stored)."""
        if not client_id or len(client_id) > 2048:
            return None
        if not self.is_document_url(client_id):
            raw = await self._state.get(_NS_CLIENT, client_id)
            return OAuthClientInformationFull.model_validate_json(raw) if raw else None
        cached = await self._state.get(_NS_DOCUMENT, client_id)
        if cached is not None:
            return OAuthClientInformationFull.model_validate_json(cached)
        try:
            client = await self._fetch(client_id)
        except ClientDocumentError as exc:
            _log.warning("client metadata document refused: %s", exc)
            return None
        await self._state.put(
            _NS_DOCUMENT, client_id, client.model_dump_json().encode(), ttl=self._settings.client_document_ttl
        )
        return client

    async def register(self, client: OAuthClientInformationFull) -> None:
        await self._state.put(
            _NS_CLIENT, client.client_id, client.model_dump_json().encode(), _REGISTRATION_TTL
        )

    async def _fetch(self, url: str) -> OAuthClientInformationFull:
        await self._check_url(url)
        try:
            response = await self._http.get(
                url,
                headers={"Accept": "application/json"},
                follow_redirects=False,
                timeout=self._settings.client_document_timeout,
            )
        except httpx2.HTTPError as exc:
            raise ClientDocumentError(f"{url}: cannot be fetched ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise ClientDocumentError(f"{url}: answered HTTP {response.status_code}, not 200")
        if len(response.content) > self._settings.client_document_max_bytes:
            raise ClientDocumentError(f"{url}: larger than {self._settings.client_document_max_bytes} bytes")
        try:
            document = json.loads(response.content)
        except ValueError:
            raise ClientDocumentError(f"{url}: not JSON") from None
        return _client_from_document(url, document)

    async def _check_url(self, url: str) -> None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.fragment or parts.username or parts.password or parts.path in ("", "/"):
            raise ClientDocumentError(f"{url}: a client id URL has a path and no fragment or credentials")
        if parts.scheme == "http" and not (self._settings.loopback and is_loopback(host)):
            raise ClientDocumentError(f"{url}: a client id URL must be https")
        if self._settings.loopback:
            return
        try:
            infos = await anyio.getaddrinfo(host, parts.port or 443)
        except OSError:
            raise ClientDocumentError(f"{url}: the host does not resolve") from None
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if not address.is_global:
                raise ClientDocumentError(f"{url}: the host resolves to a private address")


def _client_from_document(url: str, document: Any) -> OAuthClientInformationFull:
    """The client a metadata document describes, after the checks only a document needs."""
    if not isinstance(document, dict):
        raise ClientDocumentError(f"{url}: the document is not a JSON object")
    if document.get("client_id") != url:
        raise ClientDocumentError(f"{url}: the document's client_id does not match its URL")
    if (
        document.get("client_secret") is not None
        or document.get("token_endpoint_auth_method") in _SECRET_METHODS
    ):
        raise ClientDocumentError(f"{url}: a metadata document client cannot authenticate with a secret")
    if not document.get("redirect_uris"):
        raise ClientDocumentError(f"{url}: the document lists no redirect_uris")
    fields = {**document, "token_endpoint_auth_method": "none", "client_secret": None}
    fields.setdefault("scope", MCP_SCOPE)
    try:
        return OAuthClientInformationFull.model_validate(fields)
    except ValidationError as exc:
        raise ClientDocumentError(
            f"{url}: invalid client metadata ({exc.error_count()} problem(s))"
        ) from None
