"""Bearer-token auth that renews itself: before expiry, and once when the API answers 401."""

import hashlib
import json
import os
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Callable, Optional

import requests

from sources.http_kit.errors import AuthError
from sources.http_kit.redact import register_secret


@dataclass(repr=False)
class Token:
    """An access token and, when the grant gives them, its lifetime and refresh token (never in a `repr`)."""

    access_token: str
    expires_at: Optional[float] = None
    refresh_token: Optional[str] = None
    lifetime: Optional[float] = None

    def __post_init__(self) -> None:
        register_secret(self.access_token, self.refresh_token)

    def __repr__(self) -> str:
        return "Token(***)"


class TokenAuth(requests.auth.AuthBase, ABC):
    """One token for all threads of a run, renewed before it expires; subclasses say how a token is
    obtained (`obtain`) and, optionally, refreshed."""

    #: renew this many seconds (at most a tenth of the token's life) before the announced expiry
    refresh_margin: float = 300.0
    #: False for a fixed key: a 401 is then final, with no renewal to try
    renewable: bool = True

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._token: Optional[Token] = None
        self.renewals = 0

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.current_token()}"
        return request

    def current_token(self) -> str:
        with self._lock:
            token = self._token
            if token is None or self._expiring(token):
                token = self._token = self._renew(token)
            return token.access_token

    def invalidate(self, rejected: str) -> None:
        """Forget a token the API rejected; threads that already hold a newer one keep it."""
        with self._lock:
            if self._token is not None and self._token.access_token == rejected:
                self._token = Token("", expires_at=0.0, refresh_token=self._token.refresh_token)

    def _expiring(self, token: Token) -> bool:
        if token.expires_at is None:
            return False
        margin = min(self.refresh_margin, token.lifetime / 10) if token.lifetime else self.refresh_margin
        return self._clock() >= token.expires_at - margin

    def _renew(self, old: Optional[Token]) -> Token:
        token = self.refresh(old) if old is not None and old.refresh_token else None
        if token is None:
            token = self.obtain(first=old is None)
        self.renewals += 1
        return token

    def rejected(self) -> AuthError:
        """The error for a 401 that no renewal can fix."""
        return AuthError("the API rejected the credentials (HTTP 401)")

    @abstractmethod
    def obtain(self, first: bool) -> Token:
        """Get a fresh token from the primary credentials; raise AuthError when refused."""

    def refresh(self, old: Token) -> Optional[Token]:
        """Trade a refresh token for a new token; None when that failed and `obtain` should run."""
        return None


class StaticBearerAuth(TokenAuth):
    """A fixed API key or token that cannot be renewed: a 401 is final."""

    renewable = False

    def __init__(self, token: str, what: str = "API key") -> None:
        super().__init__()
        register_secret(token)
        self._static = token
        self._what = what

    def obtain(self, first: bool) -> Token:
        if not first:
            raise self.rejected()
        return Token(self._static)

    def rejected(self) -> AuthError:
        return AuthError(f"the API rejected the configured {self._what} (HTTP 401)")


class TokenStore:
    """Renewed tokens between runs, in a private file (0600): a single-use refresh token, once traded, is
    replaced by the new one. Keyed by a hash of the configured refresh token, so a new one starts afresh."""

    def __init__(self, directory: str, configured_refresh_token: str, name: str) -> None:
        digest = hashlib.blake2b(configured_refresh_token.encode(), digest_size=8).hexdigest()
        self.path = os.path.join(directory, f"{name}-{digest}.json")

    def load(self) -> Optional[Token]:
        try:
            with open(self.path, encoding="utf-8") as fh:
                data = json.load(fh)
            return Token(data["access_token"], data.get("expires_at"), data.get("refresh_token"), data.get("lifetime"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, token: Token) -> None:
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        tmp = f"{self.path}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(asdict(token), fh)
        os.replace(tmp, self.path)
