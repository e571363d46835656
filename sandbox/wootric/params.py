"""Wootric request parameters: where they come from (query and body) and how they are validated.

Errors raise ``BadRequest``, which the server renders as the API's 400 ``{"errors": [...]}`` body.
"""

from __future__ import annotations

import json
import math
from datetime import date
from urllib.parse import parse_qs

from sandbox.base import HttpError, Request
from sandbox.base.forms import parse_multipart
from sandbox.wootric.data import Bounds

_FILTER_OPS = ("gt", "gte", "lt", "lte", "eq")


class BadRequest(HttpError):
    """Invalid parameters; rendered as the API's 400 ``{"errors": [...]}`` body."""

    def __init__(self, message: str) -> None:
        super().__init__(400, message)


def form_fields(req: Request) -> dict[str, str]:
    """Body fields: multipart (curl -F), JSON, or urlencoded (curl -d, also sent with GET in the docs)."""
    body, ctype = req.body, req.content_type
    if not body:
        return {}
    if ctype.startswith("multipart/form-data"):
        try:
            fields, files = parse_multipart(body, ctype)
        except HttpError:
            return {}
        return {**fields, **{k: f.data.decode("utf-8", "replace") for k, f in files.items()}}
    if ctype.startswith("application/json"):
        try:
            loaded = json.loads(body)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in loaded.items()} if isinstance(loaded, dict) else {}
    return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def args_of(req: Request) -> dict[str, str]:
    """Query string and body fields together: the API reads its parameters from both."""
    return {**req.query, **form_fields(req)}


def int_param(params: dict[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer") from None


def bounds(params: dict[str, str], field: str) -> Bounds:
    """Fold ``field[gt|gte|lt|lte|eq]`` UNIX timestamps (floats floored) into inclusive bounds."""
    lo: int | None = None
    hi: int | None = None
    for op in _FILTER_OPS:
        raw = params.get(f"{field}[{op}]")
        if raw is None or raw == "":
            continue
        try:
            value = math.floor(float(raw))
        except (ValueError, OverflowError):
            raise BadRequest(f"{field}[{op}] must be a UNIX timestamp") from None
        low = {"gt": value + 1, "gte": value, "eq": value}.get(op)
        high = {"lt": value - 1, "lte": value, "eq": value}.get(op)
        if low is not None:
            lo = low if lo is None else max(lo, low)
        if high is not None:
            hi = high if hi is None else min(hi, high)
    return lo, hi


def date_param(params: dict[str, str], name: str) -> date | None:
    raw = (params.get(name) or "").strip().strip("'\"")
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be YYYY-MM-DD") from None


def truthy(raw: str | None) -> bool:
    return (raw or "").strip().lower() in {"1", "true", "t", "yes", "y"}
