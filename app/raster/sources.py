"""Where imagery may come from: data folders, allowed hosts, allowed buckets. Nothing else.

A scene's `uri` is untrusted input. Local paths must resolve (symlinks followed) inside one of
`SKYSPACE_DATA_DIRS`; `http(s)://` URLs must name a host in `SKYSPACE_ALLOWED_HOSTS`;
`s3://bucket/key` must name a bucket in `SKYSPACE_ALLOWED_BUCKETS`. GDAL's own `/vsi...`
prefixes and every other scheme are refused, so a client cannot make the service read an
arbitrary file or fetch an arbitrary host.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from app.errors import InvalidInput


def _inside(path: Path, folders: list[Path]) -> bool:
    for folder in folders:
        try:
            path.relative_to(folder.expanduser().resolve())
            return True
        except ValueError:
            continue
    return False


def resolve_uri(
    uri: str, *, data_dirs: list[Path], allowed_hosts: list[str], allowed_buckets: list[str]
) -> str:
    """The path or URL GDAL should open for a client's `uri`, or InvalidInput saying why not."""
    text = uri.strip()
    if not text:
        raise InvalidInput("uri: empty")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise InvalidInput("uri: control characters are not allowed")
    if text.lower().startswith("/vsi"):
        raise InvalidInput("uri: GDAL virtual file system paths are not accepted; use the URL")
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise InvalidInput(f"uri: not a URL or path ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        host = (parts.hostname or "").lower()
        try:
            port = parts.port
        except ValueError as exc:
            raise InvalidInput(f"uri: {exc}") from None
        with_port = f"{host}:{port}" if port else host
        allowed = {h.lower() for h in allowed_hosts}
        if host not in allowed and with_port not in allowed:
            raise InvalidInput(
                f"uri: host {host!r} is not in SKYSPACE_ALLOWED_HOSTS", code="host_not_allowed"
            )
        return text
    if scheme == "s3":
        if not parts.netloc or not parts.path.strip("/"):
            raise InvalidInput("uri: s3 URLs must be s3://bucket/key")
        if parts.netloc not in allowed_buckets:
            raise InvalidInput(
                f"uri: bucket {parts.netloc!r} is not in SKYSPACE_ALLOWED_BUCKETS",
                code="bucket_not_allowed",
            )
        return text
    if scheme and len(scheme) > 1:  # one letter would be a Windows drive
        raise InvalidInput(f"uri: scheme {scheme!r} is not supported (use a path, http(s) or s3)")
    path = Path(text).expanduser().resolve()
    if not _inside(path, data_dirs):
        raise InvalidInput(
            "uri: local files must be inside SKYSPACE_DATA_DIRS", code="path_not_allowed"
        )
    if not path.is_file():
        raise InvalidInput(f"uri: no such file in the data folders: {text}")
    return str(path)
