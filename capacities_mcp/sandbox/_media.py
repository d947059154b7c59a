"""Media upload in the sandbox: sessions, parts, and the media objects they become.

The live API's limits are unknown (`../shared/capacities-api.md` §7.5, §13 item 15), so the
sandbox's are its config's (`max_upload_bytes`, `upload_part_size`) and checked strictly: a
part of the wrong size or number, a missing part, an expired or unknown session are errors, so
that a client that gets them wrong fails here first. Uploaded bytes are kept in memory only
(not in the data file) and served at the object's `files[0].url` until the sandbox stops.
"""

from __future__ import annotations

import datetime as dt
import hmac
import mimetypes
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._content import new_id
from ._errors import SandboxApiError, invalid_input, not_found

if TYPE_CHECKING:
    from ._space import SpaceService

__all__ = ["MEDIA_FILES_PATH", "MediaUploads", "StoredFile"]

MEDIA_FILES_PATH = "/_sandbox/media"
_SESSION_TTL = 3600.0
_STRUCTURES = (("image/", "MediaImage"), ("audio/", "MediaAudio"), ("video/", "MediaVideo"))


@dataclass
class _Session:
    body: dict[str, Any]  # the validated start request
    file_type: str
    structure_id: str  # what the file becomes, by its type
    collections: list[str]  # checked against that structure's
    part_size: int
    part_count: int
    expires: float  # monotonic
    expires_at: str
    parts: dict[int, bytes] = field(default_factory=dict)

    def expected_size(self, number: int) -> int:
        if number < self.part_count:
            return self.part_size
        return int(self.body["fileSize"]) - self.part_size * (self.part_count - 1)


@dataclass(frozen=True)
class StoredFile:
    file_type: str
    data: bytes
    signature: str  # the `sig` of its URL, as a signed URL would carry


class MediaUploads:
    """Open sessions and uploaded files of one space; callers hold the store lock."""

    def __init__(self, *, max_bytes: int, part_size: int) -> None:
        self.max_bytes = max_bytes
        self.part_size = part_size
        self.sessions: dict[str, _Session] = {}
        self.files: dict[str, StoredFile] = {}

    def start(self, body: dict[str, Any], service: SpaceService) -> dict[str, Any]:
        size = int(body["fileSize"])
        if size > self.max_bytes:
            raise SandboxApiError(
                413,
                "cap_invalid_input",
                f"File too large: the limit is {self.max_bytes} bytes",
                {"fileSize": size},
            )
        file_type = (
            body.get("fileType") or mimetypes.guess_type(body["fileName"])[0] or "application/octet-stream"
        )
        structure_id = _structure_for(file_type)
        collections = service.check_collections(structure_id, body.get("collections") or [])
        expires_at = service.clock.now() + dt.timedelta(seconds=_SESSION_TTL)
        session = _Session(
            body=body,
            file_type=file_type,
            structure_id=structure_id,
            collections=collections,
            part_size=self.part_size,
            part_count=-(-size // self.part_size),
            expires=time.monotonic() + _SESSION_TTL,
            expires_at=expires_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        )
        session_id = new_id()
        self.sessions[session_id] = session
        return {
            "id": session_id,
            "status": "pending",
            "fileName": body["fileName"],
            "fileType": file_type,
            "fileSize": size,
            "partSize": session.part_size,
            "partCount": session.part_count,
            "expiresAt": session.expires_at,
        }

    def part(self, query: dict[str, Any]) -> dict[str, Any]:
        session = self._session(query["id"])
        number, data = int(query["partNumber"]), query["content"]
        if number > session.part_count:
            raise invalid_input(f"partNumber must be between 1 and {session.part_count}", ("partNumber",))
        expected = session.expected_size(number)
        if len(data) != expected:
            raise invalid_input(f"Part {number} must be {expected} bytes, not {len(data)}", ("body",))
        session.parts[number] = data
        return {"number": number, "size": len(data)}

    def complete(self, session_id: str, service: SpaceService, base_url: str) -> dict[str, Any]:
        session = self._session(session_id)
        missing = [n for n in range(1, session.part_count + 1) if n not in session.parts]
        if missing:
            shown = ", ".join(map(str, missing[:20])) + (" ..." if len(missing) > 20 else "")
            raise invalid_input(f"Upload incomplete: missing part(s) {shown}", ("id",))
        del self.sessions[session_id]
        data = b"".join(session.parts[n] for n in range(1, session.part_count + 1))
        obj = service.new_object(
            session.structure_id, title=session.body.get("title") or session.body["fileName"]
        )
        obj["collections"] = session.collections
        obj["properties"]["media_fileSize"] = {"type": "number", "number": {"value": len(data)}}
        stored = StoredFile(session.file_type, data, secrets.token_urlsafe(16))
        self.files[obj["id"]] = stored
        expires = service.clock.now() + dt.timedelta(hours=1)
        obj["files"] = [
            {
                "url": f"{base_url}{MEDIA_FILES_PATH}/{obj['id']}?sig={stored.signature}",
                "fileType": session.file_type,
                "expirationDate": expires.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            }
        ]
        service.store.objects[obj["id"]] = obj
        return obj

    def abort(self, session_id: str) -> None:
        self._session(session_id)
        del self.sessions[session_id]

    def file(self, object_id: str, signature: str) -> StoredFile | None:
        stored = self.files.get(object_id)
        if stored is None or not hmac.compare_digest(stored.signature.encode(), signature.encode()):
            return None
        return stored

    def _session(self, session_id: str) -> _Session:
        session = self.sessions.get(session_id)
        if session is not None and session.expires < time.monotonic():
            del self.sessions[session_id]
            session = None
        if session is None:
            raise not_found(f"Upload session {session_id} not found (unknown, finished, aborted or expired)")
        return session


def _structure_for(file_type: str) -> str:
    if file_type == "application/pdf":
        return "MediaPDF"
    return next((sid for prefix, sid in _STRUCTURES if file_type.startswith(prefix)), "MediaFile")
