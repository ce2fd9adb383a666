"""Request guards: the API key (when one is configured, every write needs `X-API-Key`) and
the body size limits."""

from __future__ import annotations

import hmac

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import TooLarge

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def _refuse(
    send: Send, status: int, detail: str, code: str, headers: list | None = None
) -> None:
    """Answer with the error model `{"detail", "code"}` without running the app."""
    body = orjson.dumps({"detail": detail, "code": code})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ApiKeyGuard:
    """Pure ASGI middleware: reads stay open, writes without the right key get a 401."""

    def __init__(self, app: ASGIApp, api_key: str) -> None:
        self.app = app
        self.api_key = api_key.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in WRITE_METHODS:
            given = dict(scope["headers"]).get(b"x-api-key", b"")
            if not hmac.compare_digest(given, self.api_key):
                detail = "missing X-API-Key header" if not given else "wrong X-API-Key"
                await _refuse(send, 401, detail, "unauthorized", [(b"www-authenticate", b"ApiKey")])
                return
        await self.app(scope, receive, send)


class BodyLimit:
    """Pure ASGI middleware: a request body over its limit is a 413 before anything parses
    it. JSON bodies are parsed whole in memory, so they have a smaller limit (`MAX_JSON_MB`)
    than file uploads (`MAX_UPLOAD_MB`, spooled to disk). A declared Content-Length over the
    limit is refused at once; a chunked body is counted as it arrives."""

    def __init__(self, app: ASGIApp, json_mb: int, upload_mb: int) -> None:
        self.app = app
        self.limits = {True: (json_mb, "MAX_JSON_MB"), False: (upload_mb, "MAX_UPLOAD_MB")}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        is_json = content_type.endswith(b"json")  # application/json, geo+json, ...
        megabytes, setting = self.limits[is_json]
        limit = megabytes * 1024 * 1024
        what = "JSON body" if is_json else "upload"
        detail = f"{what} is over the limit of {megabytes} MB ({setting})"
        if is_json:
            detail += "; send large GeoJSON as a file upload"
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await _refuse(send, 413, detail, TooLarge.code)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:  # raised inside the app's body read: FastAPI passes it on
                raise HTTPException(413, detail)
            return message

        await self.app(scope, counted, send)
