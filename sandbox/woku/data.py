"""Company model and deterministic data generation for the Woku sandbox.

Records are stored exactly as the API serves them (camelCase keys, 24-hex ObjectIds,
``createdAt``/``updatedAt`` rendered like JavaScript's ``Date.toISOString()``), so a page is
a slice of stored dicts and tests compare a warehouse against ``WokuCompany.truth(...)``.
Stored records are never mutated in place (updates replace the dict), which lets the server
serialize a page outside the lock. Sorted ``(createdMs, _id)`` indexes make every page
O(log N + page size).
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
import time
from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

from sandbox.base.gen import no_gc
from sandbox.base.gen import pick as _pick
from sandbox.base.gen import rand_int as _ri
from sandbox.base.http import HttpError
from sandbox.base.topics import Comment, Commenter, spoken

Record = dict[str, Any]

DEFAULT_API_KEY = "sk_test_woku_sandbox"
KINDS: tuple[str, ...] = (
    "nps_tools",
    "csat_tools",
    "ces_tools",
    "nps_responses",
    "csat_responses",
    "ces_responses",
    "wokus",
    "woku_reviews",
    "forms",
    "form_responses",
    "flows",
    "external_tracker_definitions",
    "external_tracker_values",
    "woku_tracker_values",
    "clients",
)
SURVEYS: tuple[str, ...] = ("nps", "csat", "ces")
ENTITY_TYPES: tuple[str, ...] = ("nps", "csat", "ces", "form", "flow")
# the collection that holds each tracker-carrying entity (a VoC "entity" is a tool, a form or a flow)
ENTITY_KIND: dict[str, str] = {
    "nps": "nps_tools",
    "csat": "csat_tools",
    "ces": "ces_tools",
    "form": "forms",
    "flow": "flows",
    "woku": "wokus",
}
_PARENT_FIELD = {"woku_reviews": "wokuId", "form_responses": "formId"}
_OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
_JS_DATE = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?"
)

_TOOL_NAMES = ("Post-purchase", "Onboarding", "Support follow-up", "Quarterly pulse", "Checkout", "Delivery", "App")
_LOCALES = ("es", "en")
_CHANNELS = ("api", "email", "whatsapp", "web", "qr", "my-crm")
#: the hostile strings a small share of typed comments carry instead of a topic comment (sandbox.base.topics)
_EDGE_CASES = (
    'They said "tomorrow" \u2014 three weeks ago.',
    "Me encant\u00f3 \U0001f60d\U0001f680",
    "L\u00ednea 1\nL\u00ednea 2: \u00e7a marche tr\u00e8s bien",
    "Tabs\tand backslashes \\ here",
    "\u65e5\u672c\u8a9e\u306e\u30b3\u30e1\u30f3\u30c8",
    "<b>html</b> & ampersands; 'single' quotes",
)
#: a form's free-text answers (not survey comments: they carry no topic)
_TEXTS = ("Excelente atenci\u00f3n, muy r\u00e1pidos.", "Great service, will buy again.", *_EDGE_CASES, "Todo bien.")
_LANGUAGES = {"es": 0.7, "en": 0.2, "fr": 0.05, "ja": 0.05}
#: how often each score is given (0-10, and 1-5 for CSAT, CES and reviews), as customers answer
_NPS_CUM = list(accumulate((3, 2, 2, 3, 3, 5, 6, 10, 14, 20, 22)))
_FIVE_CUM = list(accumulate((15, 10, 20, 25, 30)))
_TEXT_FIELDS = frozenset({"textnote", "voicemail", "description", "transcription"})
_TRANSCRIPTS = (
    "hola todo está súper bien me gustó todo",
    "la atención fue lenta pero el producto es bueno",
    "everything was fine, thank you",
    "the delivery arrived late and the box was damaged",
    "muy buena experiencia, lo recomiendo",
    "no pude terminar la compra en la aplicación",
)
_WOKU_TOPICS = ("Docker Training", "Store visit", "Webinar", "Delivery", "Demo day")
_FIELD_TYPES = ("text", "number", "select", "rating", "email")
_TRACKERS = (
    ("trr", "crm interno", "transaction id of a lease or sale"),
    ("crm_deal_id", "hubspot", "HubSpot deal id"),
    ("order_number", "shopify", "Shopify order number"),
    ("store", "retail", None),
    ("region_code", "erp", "Sales region"),
    ("ticket_ref", "zendesk", "Support ticket reference"),
    ("campaign", "marketing", None),
    ("legacy_id", "old crm", "Id in the system we migrated away from"),
)
_NAMES = ("ana", "bruno", "carla", "diego", "elena", "felipe", "gabriela", "hugo", "ines", "javier", "kim", "luis")
_DOMAINS = ("example.com", "example.org", "mail.example.net", "empresa.example.cl")


class ApiError(HttpError):
    """An API-level failure (status + NestJS message), rendered by the server as its JSON error body."""


# ---------------------------------------------------------------------- time and id helpers
def now_ms() -> int:
    return int(time.time() * 1000)


def iso_ms(ms: int) -> str:
    """``Date.prototype.toISOString()``: ``2024-03-05T14:07:09.123Z``."""
    sec, rem = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{rem:03d}Z"


def parse_iso(value: str) -> datetime:
    """Parse a timestamp this sandbox rendered (or any ISO 8601 string) into an aware UTC datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def to_ms(value: datetime | int | float | str | None) -> int | None:
    """Milliseconds for an ``at`` argument: datetime, UNIX seconds or ISO string (None passes)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(dt.timestamp() * 1000)
    if isinstance(value, str):
        return to_ms(parse_iso(value))
    return int(float(value) * 1000)


def parse_js_date(raw: str) -> int | None:
    """Milliseconds for the ISO forms ``new Date(raw)`` accepts, else None.

    As in JavaScript, a date-only string is UTC midnight and a date-time without an offset is
    server-local time (the API runs in UTC). Fractions beyond milliseconds are truncated.
    """
    m = _JS_DATE.fullmatch(raw.strip())
    if not m:
        return None
    year, month, day, hh, mm, ss, frac, tz = m.groups()
    try:
        dt = datetime(int(year), int(month or 1), int(day or 1), int(hh or 0), int(mm or 0), int(ss or 0), tzinfo=UTC)
    except ValueError:
        return None
    ms = int(dt.timestamp()) * 1000 + (int((frac or "0")[:3].ljust(3, "0")))
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:])
        if hours > 23 or minutes > 59:
            return None
        ms -= sign * (hours * 60 + minutes) * 60_000
    return ms


def is_object_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_OBJECT_ID.match(value))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _ObjectIds:
    """MongoDB-style ids: 4-byte creation second, 5-byte per-process random, 3-byte counter."""

    def __init__(self, rng: random.Random) -> None:
        self.machine = f"{rng.getrandbits(40):010x}"
        self.counter = rng.getrandbits(24)

    def new(self, ms: int) -> str:
        self.counter = (self.counter + 1) & 0xFFFFFF
        return f"{(ms // 1000) & 0xFFFFFFFF:08x}{self.machine}{self.counter:06x}"


# ---------------------------------------------------------------------- storage
class Collection:
    """Immutable records of one kind with a sorted (createdMs, _id) index, and one per parent if nested."""

    def __init__(self, kind: str, parent_field: str | None = None) -> None:
        self.kind = kind
        self.parent_field = parent_field
        self.records: dict[str, Record] = {}
        self.created: dict[str, int] = {}
        self.index: list[tuple[int, str]] = []
        self.by_parent: dict[str, list[tuple[int, str]]] = {}
        # filtered id lists per (parent, lo, hi, where_key): paging a filtered list stays O(page), not O(N)
        self._filtered: dict[Hashable, list[str]] = {}

    def __len__(self) -> int:
        return len(self.records)

    def get(self, rid: str) -> Record | None:
        return self.records.get(rid)

    def add(self, rec: Record, created_ms: int) -> Record:
        rid = rec["_id"]
        self._filtered.clear()
        self.records[rid] = rec
        self.created[rid] = created_ms
        insort(self.index, (created_ms, rid))
        if self.parent_field:
            insort(self.by_parent.setdefault(rec[self.parent_field], []), (created_ms, rid))
        return rec

    def bulk(self, items: Iterable[tuple[Record, int]]) -> None:
        """Insert many records and sort the indexes once (generation speed)."""
        self._filtered.clear()
        for rec, created_ms in items:
            rid = rec["_id"]
            self.records[rid] = rec
            self.created[rid] = created_ms
            self.index.append((created_ms, rid))
            if self.parent_field:
                self.by_parent.setdefault(rec[self.parent_field], []).append((created_ms, rid))
        self.index.sort()
        for idx in self.by_parent.values():
            idx.sort()

    def remove(self, rid: str) -> Record:
        """Delete a record: later pages shift, `total` drops (the admin route's delete)."""
        self._filtered.clear()
        rec = self.records.pop(rid)
        created = self.created.pop(rid)
        self.index.remove((created, rid))
        if self.parent_field:
            self.by_parent[rec[self.parent_field]].remove((created, rid))
        return rec

    def replace(self, rec: Record) -> Record:
        """Swap in a new version of a record (createdAt and parent never change)."""
        self._filtered.clear()
        self.records[rec["_id"]] = rec
        return rec

    def page(
        self,
        offset: int,
        limit: int,
        *,
        parent: str | None = None,
        lo: int | None = None,
        hi: int | None = None,
        where: Callable[[Record], bool] | None = None,
        where_key: Hashable | None = None,
    ) -> tuple[int, list[Record]]:
        """(total, records) newest first: createdAt desc, then _id desc; ``lo``/``hi`` inclusive ms.

        ``where_key`` names the ``where`` filter so its result is reused for the next pages.
        """
        idx = self.index if parent is None else self.by_parent.get(parent, [])
        a = 0 if lo is None else bisect_left(idx, (lo,))
        b = len(idx) if hi is None else bisect_left(idx, (hi + 1,))
        b = max(a, b)
        if where is None:
            top = b - offset
            bottom = max(a, top - limit)
            ids = [idx[i][1] for i in range(top - 1, bottom - 1, -1)] if top > a else []
            return b - a, [self.records[i] for i in ids]
        key = None if where_key is None else (parent, lo, hi, where_key)
        matched = self._filtered.get(key) if key is not None else None
        if matched is None:
            matched = [rid for _, rid in idx[a:b] if where(self.records[rid])]
            matched.reverse()
            if key is not None:
                if len(self._filtered) >= 64:
                    self._filtered.clear()
                self._filtered[key] = matched
        return len(matched), [self.records[i] for i in matched[offset : offset + limit]]

    def ordered(self) -> list[Record]:
        """All records oldest first (createdAt, _id)."""
        return [self.records[rid] for _, rid in self.index]


_TS_KEYS = ("createdAt", "updatedAt")


def _with_datetimes(rec: Record) -> Record:
    out = dict(rec)
    for key in _TS_KEYS:
        if isinstance(out.get(key), str):
            out[key] = parse_iso(out[key])
    return out


def _deep_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


# ---------------------------------------------------------------------- the company
class WokuCompany:
    """One Woku company (the owner of the API key): every collection plus the write-side operations.

    All methods are thread-safe; mutating ones draw from a separate RNG so that mutations never
    change generated data.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        api_key: str = DEFAULT_API_KEY,
        start: datetime | None = None,
        span_days: int = 365,
    ) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.api_key = api_key
        self.start = start or datetime(2024, 1, 1, tzinfo=UTC)
        self.span_days = span_days
        id_rng = random.Random(f"woku-ids-{seed}")
        self._ids = _ObjectIds(id_rng)
        self._foreign_ids = _ObjectIds(id_rng)  # "another company" on the same cluster
        self._rng = random.Random(f"woku-mutations-{seed}")
        span_ms = span_days * 86_400_000
        self._commenter = Commenter(seed, "delivery", _LANGUAGES, _EDGE_CASES, to_ms(self.start), span_ms)  # type: ignore[arg-type]
        self._topics: dict[str, tuple[str, str]] = {}  # record id -> (topic, language): never served
        self.company_id = self._ids.new(to_ms(self.start) - 90 * 86_400_000)  # type: ignore[operator]
        self.collections: dict[str, Collection] = {
            k: Collection(k, _PARENT_FIELD.get(k))
            for k in KINDS
            if k not in ("external_tracker_values", "woku_tracker_values", "clients")
        }
        self.foreign_ids: dict[str, list[str]] = {k: [] for k in ENTITY_KIND.values()}
        self.clients: dict[str, Record] = {}
        self._client_by_email: dict[str, str] = {}
        self._tracker_by_name: dict[str, str] = {}
        # (entityType, entityId) -> trackerId -> value record; entityType "woku" holds Woku values
        self._values: dict[tuple[str, str], dict[str, Record]] = {}
        self.voicemail_log: list[Record] = []

    # ------------------------------------------------------------------ reads
    def new_id(self, ms: int | None = None) -> str:
        with self.lock:
            return self._ids.new(now_ms() if ms is None else ms)

    def get(self, kind: str, rid: str) -> Record | None:
        with self.lock:
            return self.collections[kind].get(rid)

    def owner(self, kind: str, rid: str) -> str | None:
        """ "self", "foreign" (exists in another company: the API answers 403) or None (404)."""
        with self.lock:
            if self.collections[kind].get(rid) is not None:
                return "self"
            return "foreign" if rid in self.foreign_ids.get(kind, ()) else None

    def page(
        self,
        kind: str,
        offset: int,
        limit: int,
        *,
        parent: str | None = None,
        lo: int | None = None,
        hi: int | None = None,
        where: Callable[[Record], bool] | None = None,
        where_key: Hashable | None = None,
    ) -> tuple[int, list[Record]]:
        with self.lock:
            return self.collections[kind].page(
                offset, limit, parent=parent, lo=lo, hi=hi, where=where, where_key=where_key
            )

    def count(self, kind: str) -> int:
        with self.lock:
            if kind == "external_tracker_values":
                return sum(len(v) for (et, _), v in self._values.items() if et != "woku")
            if kind == "woku_tracker_values":
                return sum(len(v) for (et, _), v in self._values.items() if et == "woku")
            if kind == "clients":
                return len(self.clients)
            return len(self.collections[kind])

    def truth(self, kind: str, *, iso: bool = False) -> list[Record]:
        """Deep copies of every record of ``kind``, oldest first (createdAt, _id).

        ``iso=False`` turns top-level ``createdAt``/``updatedAt`` into aware UTC datetimes;
        ``iso=True`` keeps them exactly as the API renders them.
        """
        if kind not in KINDS:
            raise KeyError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
        with self.lock:
            if kind in ("external_tracker_values", "woku_tracker_values"):
                want_woku = kind == "woku_tracker_values"
                recs = [
                    r for (et, _), vals in self._values.items() if (et == "woku") == want_woku for r in vals.values()
                ]
                recs.sort(key=lambda r: (r["createdAt"], r["_id"]))
            elif kind == "clients":
                recs = sorted(self.clients.values(), key=lambda r: r["_id"])
            else:
                recs = self.collections[kind].ordered()
            out = [_deep_copy(r) for r in recs]
        return out if iso else [_with_datetimes(r) for r in out]

    def comments(self, kind: str) -> list[Comment]:
        """(id, text, topic, language) of every commented record of a survey kind or ``woku_reviews``,
        oldest first: the text as the warehouse's ``feedback_all`` takes it (a text note, else the
        voice note's transcription) and the themes a clustering should recover. Never served over
        HTTP; topic and language are None for edge-case strings, uploaded voicemails and edited texts."""
        if kind not in (*(f"{s}_responses" for s in SURVEYS), "woku_reviews"):
            raise KeyError(f"{kind!r} has no comments; expected nps/csat/ces_responses or woku_reviews")
        with self.lock:
            out = []
            for rec in self.collections[kind].ordered():
                if kind == "woku_reviews":
                    text = rec["description"] or rec["transcription"]
                else:
                    text = (rec["textnote"] or {}).get("description") or (rec["voicemail"] or {}).get("transcription")
                if text:
                    out.append(Comment(rec["_id"], text, *self._topics.get(rec["_id"], (None, None))))
            return out

    def ids(self, kind: str) -> list[str]:
        return [r["_id"] for r in self.truth(kind, iso=True)]

    def tracker_by_name(self, name: str) -> Record | None:
        with self.lock:
            tid = self._tracker_by_name.get(name)
            return self.collections["external_tracker_definitions"].get(tid) if tid else None

    def usage_count(self, tracker_id: str) -> int:
        """Woku assignments referencing a definition (the API's ``includeUsage``)."""
        with self.lock:
            return sum(tracker_id in vals for (et, _), vals in self._values.items() if et == "woku")

    def tracker_values(self, entity_type: str, entity_id: str) -> list[Record]:
        """Values on one entity (``woku`` included), oldest first; raises 404/403 like the API."""
        with self.lock:
            self._require_entity(entity_type, entity_id)
            vals = list(self._values.get((entity_type, entity_id), {}).values())
        return sorted(vals, key=lambda r: (r["createdAt"], r["_id"]))

    def search_woku_values(self, name: str, value: str) -> list[Record]:
        """Woku tracker values whose definition is ``name`` and value equals ``value``, newest first."""
        with self.lock:
            tid = self._tracker_by_name.get(name)
            if tid is None:
                return []
            hits = [
                vals[tid]
                for (et, _), vals in self._values.items()
                if et == "woku" and tid in vals and vals[tid]["value"] == value
            ]
        return sorted(hits, key=lambda r: (r["createdAt"], r["_id"]), reverse=True)

    def voicemails_for(self, woku_id: str | None = None, sha256: str | None = None) -> list[Record]:
        """Every voicemail accepted so far (permanent log, unlike server stats)."""
        with self.lock:
            return [
                dict(v)
                for v in self.voicemail_log
                if (woku_id is None or v["wokuId"] == woku_id) and (sha256 is None or v["sha256"] == sha256)
            ]

    # ------------------------------------------------------------------ clients
    def _client_for(self, email: str | None, phone: str | None, anonymous: bool, ms: int) -> str:
        """Stable clientId per email (case-insensitive); an anonymous review gets a fresh client."""
        key = (email or "").strip().lower()
        if not anonymous and key and key in self._client_by_email:
            return self._client_by_email[key]
        cid = self._ids.new(ms)
        self.clients[cid] = {
            "_id": cid,
            "email": None if anonymous else (email or None),
            "phone": None if anonymous else (phone or None),
            "anonymous": anonymous,
        }
        if not anonymous and key:
            self._client_by_email[key] = cid
        return cid

    # ------------------------------------------------------------------ record factories
    def _survey_response(
        self, rng: random.Random, survey: str, ms: int, tool_ids: Sequence[str], clients: Sequence[str]
    ) -> Record:
        rid = self._ids.new(ms)
        high = 10 if survey == "nps" else 5
        drawn = _score(rng, _NPS_CUM, 0) if survey == "nps" else _score(rng, _FIVE_CUM, 1)
        score, rising = self._commenter.score(drawn, high, ms)
        anonymous = rng.random() < 0.1
        client = self._client_for(None, None, True, ms) if anonymous or not clients else _pick(rng, clients)
        updated = ms
        textnote = voicemail = None
        roll = rng.random()
        if roll < 0.45:
            t_ms = ms + (0 if rng.random() < 0.7 else _ri(rng, 1, 5 * 86_400_000))
            textnote = {"description": self._say(rid, rng.random(), score, high, rising), "createdAt": iso_ms(t_ms)}
            updated = max(updated, t_ms)
        elif roll < 0.55:
            t_ms = ms + _ri(rng, 0, 3 * 86_400_000)
            said = spoken(self._say(rid, 1.0, score, high, rising, typed=False))
            voicemail = self._voice_blob(rng, said, score >= (9 if survey == "nps" else 4), t_ms)
            updated = max(updated, t_ms)
        tool_key = f"{survey}ToolId"
        tool = None if (survey == "nps" and rng.random() < 0.1) or not tool_ids else _pick(rng, tool_ids)
        return {
            "_id": rid,
            tool_key: tool,
            "score": score,
            "clientId": client,
            "anonymous": anonymous,
            "responseChannel": _pick(rng, _CHANNELS),
            "language": _pick(rng, _LOCALES),
            "textnote": textnote,
            "voicemail": voicemail,
            "createdAt": iso_ms(ms),
            "updatedAt": iso_ms(updated),
        }

    def _say(self, rid: str, u: float, score: int, high: int, rising: bool, *, typed: bool = True) -> str:
        """A topic comment (or, when ``typed``, sometimes an edge case); its topic goes to ``_topics``."""
        text, label = self._commenter.comment(u, score, high, rising, typed=typed)
        if label is not None:
            self._topics[rid] = label
        return text

    def _voice_blob(self, rng: random.Random, transcription: str, positive: bool, ms: int) -> Record:
        fid = self._ids.new(ms)
        return {
            "transcription": transcription,
            "feedbackType": "recognition" if positive else "improvement",
            "file": {"filename": f"audio-review-{fid}", "type": "audio", "url": _file_url(rng)},
            "createdAt": iso_ms(ms),
        }

    def _review(
        self, rng: random.Random, woku_id: str, ms: int, clients: Sequence[str], voice: bool | None = None
    ) -> Record:
        rid = self._ids.new(ms)
        q, rising = self._commenter.score(_score(rng, _FIVE_CUM, 1), 5, ms)
        is_voice = rng.random() < 0.35 if voice is None else voice
        anonymous = rng.random() < 0.1
        client = self._client_for(None, None, True, ms) if anonymous or not clients else _pick(rng, clients)
        return {
            "_id": rid,
            "wokuId": woku_id,
            "type": "voice" if is_voice else "text",
            "qualification": q,
            "description": None if is_voice else self._say(rid, rng.random(), q, 5, rising),
            "transcription": spoken(self._say(rid, 1.0, q, 5, rising, typed=False)) if is_voice else None,
            "feedbackType": "recognition" if q >= 4 else "improvement",
            "file": ({"filename": f"audio-review-{rid}", "type": "audio", "url": _file_url(rng)} if is_voice else None),
            "clientId": client,
            "anonymous": anonymous,
            "responseChannel": _pick(rng, _CHANNELS),
            "language": _pick(rng, _LOCALES),
            "createdAt": iso_ms(ms),
            "updatedAt": iso_ms(ms),
        }

    def _form_response(self, rng: random.Random, form: Record, ms: int, clients: Sequence[str]) -> Record:
        answers: dict[str, Any] = {}
        for field in form["fields"]:
            if not field["required"] and rng.random() < 0.3:
                continue
            ftype = field["type"]
            if ftype == "number":
                answers[field["id"]] = _ri(rng, 0, 1000)
            elif ftype == "rating":
                answers[field["id"]] = _ri(rng, 1, 6)
            elif ftype == "select":
                answers[field["id"]] = _pick(rng, field["options"])
            elif ftype == "email":
                answers[field["id"]] = f"{_pick(rng, _NAMES)}{_ri(rng, 1, 999)}@{_pick(rng, _DOMAINS)}"
            else:
                answers[field["id"]] = _pick(rng, _TEXTS)
        anonymous = rng.random() < 0.15
        client = self._client_for(None, None, True, ms) if anonymous or not clients else _pick(rng, clients)
        return {
            "_id": self._ids.new(ms),
            "formId": form["_id"],
            "answers": answers,
            "clientId": client,
            "anonymous": anonymous,
            "responseChannel": _pick(rng, _CHANNELS),
            "createdAt": iso_ms(ms),
            "updatedAt": iso_ms(ms),
        }

    def _known_clients(self) -> list[str]:
        return [cid for cid, c in self.clients.items() if not c["anonymous"]]

    # ------------------------------------------------------------------ mutations (admin / tests)
    def add_responses(self, survey: str, n: int, at: datetime | int | str | None = None) -> list[Record]:
        """Append ``n`` NPS/CSAT/CES responses created ``at`` (default: now)."""
        if survey not in SURVEYS:
            raise ValueError(f"survey must be one of {SURVEYS}")
        with self.lock:
            base = to_ms(at)
            tools = list(self.collections[f"{survey}_tools"].records)
            clients = self._known_clients()
            out = []
            for _ in range(n):
                ms = base if base is not None else now_ms()
                out.append(
                    self.collections[f"{survey}_responses"].add(
                        self._survey_response(self._rng, survey, ms, tools, clients), ms
                    )
                )
            return [_deep_copy(r) for r in out]

    def add_reviews(
        self,
        n: int,
        at: datetime | int | str | None = None,
        *,
        woku_id: str | None = None,
        voice: bool | None = None,
    ) -> list[Record]:
        """Append ``n`` reviews to ``woku_id`` (default: random wokus)."""
        with self.lock:
            base = to_ms(at)
            wokus = [woku_id] if woku_id else list(self.collections["wokus"].records)
            if woku_id and woku_id not in self.collections["wokus"].records:
                raise KeyError(f"unknown woku {woku_id}")
            clients = self._known_clients()
            out = []
            for _ in range(n):
                ms = base if base is not None else now_ms()
                rec = self._review(self._rng, _pick(self._rng, wokus), ms, clients, voice)
                out.append(self.collections["woku_reviews"].add(rec, ms))
            return [_deep_copy(r) for r in out]

    def add_form_responses(
        self, n: int, at: datetime | int | str | None = None, *, form_id: str | None = None
    ) -> list[Record]:
        with self.lock:
            base = to_ms(at)
            forms = self.collections["forms"]
            if form_id and forms.get(form_id) is None:
                raise KeyError(f"unknown form {form_id}")
            form_ids = [form_id] if form_id else list(forms.records)
            clients = self._known_clients()
            out = []
            for _ in range(n):
                ms = base if base is not None else now_ms()
                form = forms.records[_pick(self._rng, form_ids)]
                rec = self._form_response(self._rng, form, ms, clients)
                out.append(self.collections["form_responses"].add(rec, ms))
            return [_deep_copy(r) for r in out]

    def update_records(
        self, kind: str, ids: Sequence[str], at: datetime | int | str | None = None, **fields: Any
    ) -> list[Record]:
        """Edit records (e.g. a late textnote or a corrected score): new fields and a later ``updatedAt``.

        ``createdAt`` never moves, which is what makes a creation-time cursor miss edits unless it
        looks back. ``updatedAt`` is ``at`` (default now), but always at least 1 ms after the previous one.
        """
        if {"_id", "createdAt"} & set(fields):
            raise ValueError("_id and createdAt cannot be edited")
        coll = self.collections[kind]
        with self.lock:
            out = []
            for rid in ids:
                old = coll.get(rid)
                if old is None:
                    raise KeyError(f"unknown {kind} id {rid}")
                prev = to_ms(old["updatedAt"]) or 0
                ms = max(to_ms(at) if at is not None else now_ms(), prev + 1)  # type: ignore[type-var]
                if _TEXT_FIELDS & set(fields):
                    self._topics.pop(rid, None)  # an edited comment's topic is no longer known
                out.append(coll.replace({**old, **_deep_copy(fields), "updatedAt": iso_ms(ms)}))
            return [_deep_copy(r) for r in out]

    def delete_records(self, kind: str, ids: Sequence[str]) -> list[str]:
        """Delete records of one kind (responses, reviews, ...); an unknown id is refused first."""
        coll = self.collections[kind]
        with self.lock:
            missing = [rid for rid in ids if coll.get(rid) is None]
            if missing:
                raise KeyError(f"unknown {kind} ids {missing}")
            for rid in ids:
                self._topics.pop(rid, None)
            return [coll.remove(rid)["_id"] for rid in ids]

    # ------------------------------------------------------------------ API write operations
    def _require_entity(self, entity_type: str, entity_id: str) -> Record:
        kind = ENTITY_KIND[entity_type]
        rec = self.collections[kind].get(entity_id)
        if rec is not None:
            return rec
        if entity_id in self.foreign_ids.get(kind, ()):
            label = "Woku" if entity_type == "woku" else "Entity"
            raise ApiError(403, f"{label} belongs to another company")
        raise ApiError(404, "Woku not found" if entity_type == "woku" else "Entity not found")

    def create_tracker(
        self, name: str, system: str, description: str | None = None, at: datetime | int | str | None = None
    ) -> Record:
        """Add a definition; names are unique per company (exact match), else 409."""
        with self.lock:
            if name in self._tracker_by_name:
                raise ApiError(409, "Tracker name already in use")
            ms = to_ms(at) or now_ms()
            rec = {
                "_id": self._ids.new(ms),
                "name": name,
                "system": system,
                "description": description,
                "active": True,
                "createdAt": iso_ms(ms),
                "updatedAt": iso_ms(ms),
            }
            self.collections["external_tracker_definitions"].add(rec, ms)
            self._tracker_by_name[name] = rec["_id"]
            return dict(rec)

    def set_tracker_active(self, tracker_id: str, active: bool) -> Record:
        with self.lock:
            coll = self.collections["external_tracker_definitions"]
            old = coll.get(tracker_id)
            if old is None:
                raise ApiError(404, "Tracker not found")
            ms = max(now_ms(), (to_ms(old["updatedAt"]) or 0) + 1)
            return dict(coll.replace({**old, "active": active, "updatedAt": iso_ms(ms)}))

    def assign_tracker(
        self,
        entity_type: str,
        entity_id: str,
        name: str,
        value: str,
        at: datetime | int | str | None = None,
    ) -> tuple[Record, bool]:
        """Upsert the value of tracker ``name`` on an entity (``woku`` included); returns (record, created)."""
        with self.lock:
            self._require_entity(entity_type, entity_id)
            tracker = self.tracker_by_name(name)
            if tracker is None:
                raise ApiError(404, f"Tracker '{name}' not found")
            if not tracker["active"]:
                raise ApiError(400, [f"Tracker '{name}' is inactive"])
            ms = to_ms(at) or now_ms()
            vals = self._values.setdefault((entity_type, entity_id), {})
            old = vals.get(tracker["_id"])
            if old is not None:
                ms = max(ms, (to_ms(old["updatedAt"]) or 0) + 1)
                vals[tracker["_id"]] = rec = {**old, "value": value, "updatedAt": iso_ms(ms)}
                return dict(rec), False
            rec = self._value_record(entity_type, entity_id, tracker["_id"], value, ms)
            vals[tracker["_id"]] = rec
            return dict(rec), True

    def _value_record(self, entity_type: str, entity_id: str, tracker_id: str, value: str, ms: int) -> Record:
        head: Record = {"_id": self._ids.new(ms), "companyId": self.company_id}
        where = {"wokuId": entity_id} if entity_type == "woku" else {"entityType": entity_type, "entityId": entity_id}
        return {
            **head,
            **where,
            "trackerId": tracker_id,
            "value": value,
            "createdAt": iso_ms(ms),
            "updatedAt": iso_ms(ms),
        }

    def create_voicemail(
        self,
        woku_id: str,
        *,
        audio: bytes,
        qualification: int,
        client_email: str | None,
        client_phone: str | None,
        anonymous: bool,
        language: str = "es",
        response_channel: str = "api",
        filename: str | None = None,
        at: datetime | int | str | None = None,
    ) -> tuple[Record, Record]:
        """Store a voice review of a woku; returns (the API's answer, the review as listed).

        The transcription is a pure function of the audio (same file, same text), like a real
        speech-to-text pass; ``feedbackType`` follows the qualification (4-5 recognition).
        """
        with self.lock:
            woku = self._require_entity("woku", woku_id)
            if woku.get("closed") or woku.get("reviewsDisabled"):
                raise ApiError(400, ["The woku is closed or has reviews disabled"])
            ms = to_ms(at) or now_ms()
            digest = sha256_hex(audio)
            client = self._client_for(client_email, client_phone, anonymous, ms)
            rid = self._ids.new(ms)
            transcription = _TRANSCRIPTS[int(digest[:8], 16) % len(_TRANSCRIPTS)]
            feedback = "recognition" if qualification >= 4 else "improvement"
            file = {"filename": f"audio-review-{rid}", "type": "audio", "url": _file_url(self._rng)}
            review = {
                "_id": rid,
                "wokuId": woku_id,
                "type": "voice",
                "qualification": qualification,
                "description": None,
                "transcription": transcription,
                "feedbackType": feedback,
                "file": file,
                "clientId": client,
                "anonymous": anonymous,
                "responseChannel": response_channel,
                "language": language,
                "createdAt": iso_ms(ms),
                "updatedAt": iso_ms(ms),
            }
            self.collections["woku_reviews"].add(review, ms)
            self.voicemail_log.append(
                {
                    "reviewId": rid,
                    "wokuId": woku_id,
                    "sha256": digest,
                    "size": len(audio),
                    "filename": filename,
                    "clientId": client,
                    "clientEmail": None if anonymous else client_email,
                    "qualification": qualification,
                    "createdAt": iso_ms(ms),
                }
            )
            answer = {
                "qualification": {"_id": self._ids.new(ms), "qualification": qualification},
                "wokuId": woku_id,
                "anonymous": anonymous,
                "transcription": transcription,
                "feedbackType": feedback,
                "file": dict(file),
                "clientId": client,
            }
            return answer, _deep_copy(review)


def _score(rng: random.Random, cum: list[int], low: int) -> int:
    """A score from ``low`` up, weighted by ``cum`` (one draw, as a uniform one took)."""
    return low + bisect_right(cum, rng.random() * cum[-1])


def _file_url(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"https://files.sandbox.woku.invalid/wokus/{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}blob"


# ---------------------------------------------------------------------- generation
def generate_company(
    seed: int = 0,
    *,
    start: datetime = datetime(2024, 1, 1, tzinfo=UTC),
    span_days: int = 365,
    api_key: str = DEFAULT_API_KEY,
    nps_tools: int = 3,
    csat_tools: int = 2,
    ces_tools: int = 2,
    nps_responses: int = 600,
    csat_responses: int = 300,
    ces_responses: int = 300,
    wokus: int = 12,
    reviews: int = 400,
    voice_ratio: float = 0.35,
    forms: int = 3,
    form_responses: int = 150,
    flows: int = 3,
    trackers: int = 6,
    inactive_trackers: int = 2,
    tracker_values: int = 40,
    clients: int = 150,
    closed_wokus: int = 0,
) -> WokuCompany:
    """Build a deterministic company (same arguments -> identical truth).

    Definitions (tools, wokus, forms, flows, trackers) are created in the 60 days before
    ``start``; responses and reviews spread over ``[start, start + span_days)`` with millisecond
    timestamps. The last ``inactive_trackers`` of the ``trackers`` definitions are deactivated
    (some values still point at them). The first ``closed_wokus`` wokus are closed. Each
    entity collection also gets one id owned by another company (``company.foreign_ids``) for 403s.
    """
    if inactive_trackers > trackers:
        raise ValueError("inactive_trackers cannot exceed trackers")
    rng = random.Random(seed)
    co = WokuCompany(seed=seed, api_key=api_key, start=start, span_days=span_days)
    s0 = to_ms(start)
    assert s0 is not None
    span = span_days * 86_400_000
    setup = 60 * 86_400_000

    def setup_ms() -> int:
        return s0 - setup + _ri(rng, 0, setup)

    def when() -> int:
        return s0 + _ri(rng, 0, span)

    with co.lock, no_gc():  # bulk building: the cyclic GC would otherwise rescan every record
        for i in range(clients):
            ms = setup_ms()
            email = f"{_pick(rng, _NAMES)}.{i + 1}@{_pick(rng, _DOMAINS)}"
            phone = f"569{_ri(rng, 10_000_000, 99_999_999)}" if rng.random() < 0.5 else None
            co._client_for(email, phone, False, ms)
        known = co._known_clients()

        for survey, n, extra in (
            ("nps", nps_tools, "npsMessage"),
            ("csat", csat_tools, "question"),
            ("ces", ces_tools, "question"),
        ):
            items = []
            for i in range(n):
                ms = setup_ms()
                rec: Record = {"_id": co._ids.new(ms), "name": f"{_TOOL_NAMES[i % len(_TOOL_NAMES)]} {survey.upper()}"}
                if survey == "nps":
                    rec["npsMessage"] = "How likely are you to recommend us to a friend?"
                    rec["audienceType"] = _pick(rng, ("customers", "partners", "employees"))
                elif survey == "csat":
                    rec["question"] = "How satisfied are you with"
                    rec["subject"] = _pick(rng, ("your purchase", "our support", "the delivery"))
                else:
                    rec["question"] = "How easy was it to"
                    rec["action"] = _pick(rng, ("solve your issue", "pay", "find what you needed"))
                locales = ["es", "en"] if rng.random() < 0.5 else [_pick(rng, _LOCALES)]
                rec["availableLocales"] = locales
                rec["defaultLocale"] = locales[0]
                rec["localizedContent"] = [{"locale": loc, extra: rec[extra]} for loc in locales]
                rec["createdAt"] = rec["updatedAt"] = iso_ms(ms)
                items.append((rec, ms))
            co.collections[f"{survey}_tools"].bulk(items)
            co.foreign_ids[f"{survey}_tools"].append(co._foreign_ids.new(s0))

        items = []
        for i in range(wokus):
            ms = setup_ms()
            locales = ["es", "en"] if rng.random() < 0.3 else [_pick(rng, _LOCALES)]
            rec = {
                "_id": co._ids.new(ms),
                "description": f"{_pick(rng, _WOKU_TOPICS)} {i + 1}",
                "folderId": co._ids.new(ms) if rng.random() < 0.3 else None,
                "closed": i < closed_wokus,
                "reviewsDisabled": False,
                "anonymousDisabled": rng.random() < 0.2,
                "onlyOneReviewPerClient": rng.random() < 0.2,
                "availableLocales": locales,
                "defaultLocale": locales[0],
                "createdAt": iso_ms(ms),
                "updatedAt": iso_ms(ms),
            }
            items.append((rec, ms))
        co.collections["wokus"].bulk(items)
        co.foreign_ids["wokus"].append(co._foreign_ids.new(s0))

        items = []
        for i in range(forms):
            ms = setup_ms()
            fields = []
            for j in range(_ri(rng, 3, 6)):
                ftype = _pick(rng, _FIELD_TYPES)
                field: Record = {"id": co._ids.new(ms), "type": ftype, "label": f"Question {j + 1}", "required": j == 0}
                if ftype == "select":
                    field["options"] = ["A", "B", "C"]
                fields.append(field)
            rec = {
                "_id": co._ids.new(ms),
                "name": f"Form {i + 1}",
                "description": _pick(rng, ("Registration", "Feedback", "Claim", "Survey")),
                "active": not (forms >= 3 and i == forms - 1),  # one inactive form when there are enough
                "closed": False,
                "fields": fields,
                "availableLocales": ["es"],
                "defaultLocale": "es",
                "createdAt": iso_ms(ms),
                "updatedAt": iso_ms(ms),
            }
            items.append((rec, ms))
        co.collections["forms"].bulk(items)
        co.foreign_ids["forms"].append(co._foreign_ids.new(s0))

        woku_ids = [r["_id"] for r in co.collections["wokus"].ordered()]
        nps_ids = [r["_id"] for r in co.collections["nps_tools"].ordered()]
        items = []
        for i in range(flows):
            ms = setup_ms()
            k = min(len(woku_ids), _ri(rng, 2, 5))
            rec = {
                "_id": co._ids.new(ms),
                "name": f"Flow {i + 1}",
                "wokuIds": rng.sample(woku_ids, k) if k else [],
                "npsToolId": _pick(rng, nps_ids) if nps_ids and rng.random() < 0.7 else None,
                "branding": {"primaryColor": f"#{rng.getrandbits(24):06x}"},
                "createdAt": iso_ms(ms),
                "updatedAt": iso_ms(ms),
            }
            items.append((rec, ms))
        co.collections["flows"].bulk(items)
        co.foreign_ids["flows"].append(co._foreign_ids.new(s0))

        # responses and reviews over the span
        for survey, n in (("nps", nps_responses), ("csat", csat_responses), ("ces", ces_responses)):
            tools = [r["_id"] for r in co.collections[f"{survey}_tools"].ordered()]
            resp = []
            for _ in range(n):
                ms = when()
                resp.append((co._survey_response(rng, survey, ms, tools, known), ms))
            co.collections[f"{survey}_responses"].bulk(resp)
        if woku_ids:
            resp = []
            for _ in range(reviews):
                ms = when()
                resp.append((co._review(rng, _pick(rng, woku_ids), ms, known, rng.random() < voice_ratio), ms))
            co.collections["woku_reviews"].bulk(resp)
        form_recs = co.collections["forms"].ordered()
        if form_recs:
            resp = []
            for _ in range(form_responses):
                ms = when()
                resp.append((co._form_response(rng, _pick(rng, form_recs), ms, known), ms))
            co.collections["form_responses"].bulk(resp)

        # tracker definitions, then values on random entities (unique per entity and tracker)
        defs = []
        for i in range(trackers):
            name, system, desc = _TRACKERS[i % len(_TRACKERS)]
            if i >= len(_TRACKERS):
                name = f"{name}_{i // len(_TRACKERS) + 1}"
            ms = setup_ms()
            rec = {
                "_id": co._ids.new(ms),
                "name": name,
                "system": system,
                "description": desc,
                "active": i < trackers - inactive_trackers,
                "createdAt": iso_ms(ms),
                "updatedAt": iso_ms(ms + (86_400_000 if i >= trackers - inactive_trackers else 0)),
            }
            defs.append((rec, ms))
            co._tracker_by_name[name] = rec["_id"]
        co.collections["external_tracker_definitions"].bulk(defs)
        entities = [
            (etype, rid) for etype in (*ENTITY_TYPES, "woku") for rid in co.collections[ENTITY_KIND[etype]].records
        ]
        entities.sort()
        tracker_ids = [r["_id"] for r, _ in defs]
        pairs = [(e, t) for e in entities for t in tracker_ids]
        for (etype, eid), tid in rng.sample(pairs, min(tracker_values, len(pairs))) if pairs else []:
            ms = s0 + _ri(rng, 0, span)
            value = f"{_pick(rng, ('TX', 'ORD', 'D', 'ST'))}-{_ri(rng, 1000, 99999)}"
            co._values.setdefault((etype, eid), {})[tid] = co._value_record(etype, eid, tid, value, ms)
    return co
