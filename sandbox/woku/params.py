"""Woku request parameters and errors, validated like the API's NestJS pipes and DTOs.

Errors raise ``ApiError``; the server renders them as ``{"statusCode", "message", "error"}``.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qs

from sandbox.base import Request
from sandbox.base.forms import parse_multipart
from sandbox.woku.data import ApiError, is_object_id, parse_js_date

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
INT = re.compile(r"^-?\d+$")
BAD_OBJECT_ID = "Validation failed (ObjectId is expected)"


def error_body(status: int, message: str | list[str]) -> dict[str, Any]:
    """NestJS's error shape (the spec's ValidationErrorResponseDto; ``message`` is a list for DTO errors)."""
    return {"statusCode": status, "message": message, "error": REASONS.get(status, "Error")}


def json_object(req: Request) -> dict[str, Any]:
    """The body as a JSON object (urlencoded forms accepted too, as Express does)."""
    ctype = req.content_type.lower()
    if not req.body.strip():
        return {}
    if ctype.startswith("application/x-www-form-urlencoded"):
        parsed = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[-1] for k, v in parsed.items()}
    if ctype.startswith("multipart/form-data"):
        return dict(parse_multipart(req.body, req.content_type)[0])
    try:
        loaded = json.loads(req.body)
    except ValueError as exc:
        raise ApiError(400, f"Unexpected token in JSON: {exc}") from None
    if not isinstance(loaded, dict):
        raise ApiError(400, ["request body must be a JSON object"])
    return loaded


def string_rule(errors: list[str], body: dict[str, Any], key: str, max_len: int, *, required: bool) -> Any:
    """class-validator style checks for an ``IsString``/``IsNotEmpty``/``MaxLength`` property."""
    value = body.get(key)
    if value is None:
        if required:
            errors.extend([f"{key} should not be empty", f"{key} must be a string"])
        return None
    if not isinstance(value, str):
        errors.append(f"{key} must be a string")
        return None
    if required and value == "":
        errors.append(f"{key} should not be empty")
    if len(value) > max_len:
        errors.append(f"{key} must be shorter than or equal to {max_len} characters")
    return value


def bool_param(query: dict[str, str], name: str) -> bool | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    low = raw.strip().lower()
    if low in ("true", "1"):
        return True
    if low in ("false", "0"):
        return False
    raise ApiError(400, [f"{name} must be a boolean value"])


def date_param(query: dict[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    ms = parse_js_date(raw)
    if ms is None:
        raise ApiError(400, [f"{name} must be a valid ISO 8601 date string"])
    return ms


def object_id(req: Request, name: str) -> str:
    value = req.params[name]
    if not is_object_id(value):
        raise ApiError(400, BAD_OBJECT_ID)
    return value
