"""What the client accepts from the wire: bodies up to a size, redirects only within the API's origin."""

from typing import Optional
from urllib.parse import urljoin, urlsplit

import requests

#: redirects followed in a row before giving up on a request
MAX_REDIRECTS = 5
REDIRECTS = (301, 302, 303, 307, 308)


class BodyTooLarge(Exception):
    def __init__(self, size: int, declared: bool) -> None:
        super().__init__(size)
        self.size, self.declared = size, declared


def read_body(response: requests.Response, max_bytes: int) -> bytes:
    """The whole body, read in chunks and given up on past `max_bytes` (the rest is never read)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        response.close()
        raise BodyTooLarge(int(declared), declared=True)
    chunks, size = [], 0
    for chunk in response.iter_content(1 << 16):
        size += len(chunk)
        if size > max_bytes:
            response.close()
            raise BodyTooLarge(size, declared=False)
        chunks.append(chunk)
    body = b"".join(chunks)
    # requests decodes `.json()` from this cache; it was streamed, so it is not filled yet
    response._content = body  # noqa: SLF001
    return body


def origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def redirect_target(response: requests.Response, url: str) -> Optional[str]:
    """The absolute URL a redirect points to, or None for an answer that is not one."""
    location = response.headers.get("Location")
    if response.status_code not in REDIRECTS or not location:
        return None
    return urljoin(url, location)
