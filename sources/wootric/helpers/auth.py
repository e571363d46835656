"""Wootric's OAuth grants: get a token, refresh it, and fall back to the primary grant."""

import logging
import time
from typing import Callable, Dict, Optional

from sources.http_kit import (
    ApiClient,
    ApiError,
    ApiUnavailableError,
    AuthError,
    Token,
    TokenAuth,
    TokenStore,
    register_secret,
)
from sources.wootric.helpers.credentials import (
    WootricClientCredentials,
    WootricCredentials,
    WootricPasswordCredentials,
)
from sources.wootric.settings import TOKEN_PATH

logger = logging.getLogger(__name__)

#: fields of the three grants that must never appear in a message, a log line or a stored row
_SECRET_FIELDS = ("client_secret", "password", "access_token", "refresh_token")


class WootricAuth(TokenAuth):
    """Renews Wootric's 2-hour tokens: the `refresh_token` grant where the last token came with one,
    else (or if that fails) the primary grant again. A bare `access_token` cannot be renewed."""

    def __init__(
        self,
        token_client: ApiClient,
        credentials: WootricCredentials,
        token_dir: Optional[str] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock)
        register_secret(*(getattr(credentials, key, None) for key in _SECRET_FIELDS))
        self._client = token_client
        self._credentials = credentials
        refresh_token = getattr(credentials, "refresh_token", None)
        self._store = TokenStore(token_dir, refresh_token, "wootric") if refresh_token and token_dir else None

    def obtain(self, first: bool) -> Token:
        creds = self._credentials
        if isinstance(creds, WootricClientCredentials):
            return self._grant(
                {"grant_type": "client_credentials", "client_id": creds.client_id, "client_secret": creds.client_secret}
            )
        if isinstance(creds, WootricPasswordCredentials):
            params = {"account_token": creds.account_token} if creds.account_token else None
            return self._grant(
                {"grant_type": "password", "username": creds.username, "password": creds.password}, params
            )
        if first:
            stored = self._store.load() if self._store else None
            return stored or Token(creds.access_token, refresh_token=creds.refresh_token or None)
        if creds.refresh_token:
            raise AuthError(
                "Wootric rejected the access_token and the refresh_token; refresh tokens are single-use, so for"
                " unattended runs configure client_id/client_secret or username/password"
            )
        raise AuthError(
            "Wootric rejected the configured access_token (expired?) and no refresh_token is configured to renew it"
        )

    def refresh(self, old: Token) -> Optional[Token]:
        try:
            # a refresh token is spent by its first use: never replay the request blindly
            token = self._grant({"grant_type": "refresh_token", "refresh_token": old.refresh_token}, idempotent=False)
        except (AuthError, ApiUnavailableError):
            logger.warning(
                "Wootric refused the refresh token; authenticating again with the %s grant", self._credentials.grant
            )
            return None
        if self._store is not None:
            self._store.save(token)
        return token

    def _grant(self, form: Dict[str, str], params: Optional[Dict[str, str]] = None, idempotent: bool = True) -> Token:
        grant = form["grant_type"]
        try:
            body = self._client.request(
                "POST", TOKEN_PATH, data=form, params=params, authenticate=False, idempotent=idempotent
            )
        except AuthError:
            raise AuthError(f"Wootric rejected the credentials of the {grant} grant (HTTP 401)") from None
        except ApiError as exc:
            if exc.status in (400, 401, 403):
                raise AuthError(f"Wootric rejected the credentials of the {grant} grant (HTTP {exc.status})") from None
            raise
        if not isinstance(body, dict) or not body.get("access_token"):
            raise AuthError(f"Wootric's token endpoint returned no access_token for the {grant} grant")
        expires_in = body.get("expires_in")
        expires_at = self._clock() + float(expires_in) if expires_in else None
        return Token(
            body["access_token"],
            expires_at=expires_at,
            refresh_token=body.get("refresh_token"),
            lifetime=float(expires_in) if expires_in else None,
        )
