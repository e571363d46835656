"""Account model and deterministic data generation for the Wootric sandbox.

Records are kept in a canonical form (UTC-aware ``datetime`` with whole seconds, int ids) so
tests can compare a warehouse against ``Account.truth()``; the API-specific formatting
(mixed timestamp styles, per-record UTC offsets) is applied only in ``Account.render()``.
Sorted ``(epoch, id)`` indexes make every filtered page O(log N + page size).
"""

from __future__ import annotations

import math
import random
import threading
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any, Literal

from sandbox.base.gen import no_gc
from sandbox.base.gen import pick as _pick
from sandbox.base.gen import rand_int as _ri
from sandbox.base.topics import Comment, Commenter

Kind = Literal["end_users", "responses", "declines"]
KINDS: tuple[Kind, ...] = ("end_users", "responses", "declines")
Bounds = tuple[int | None, int | None]  # inclusive epoch-second range, None = open
Record = dict[str, Any]

PAGE_BOUNDARY = 1500  # 30 pages x 50 records: the deepest offset the API can reach
OFFSETS_MIN: tuple[int, ...] = (-480, -300, 0, 60, 330, 585, -210)  # -08:00 ... -03:30
STYLES: tuple[str, ...] = ("space", "iso_ms", "space_colon")
STYLE_WEIGHTS: tuple[float, ...] = (0.8, 0.1, 0.1)

_FIRST = ("ana", "bob", "chen", "dara", "eli", "fatima", "goran", "hana", "ivan", "jo", "kai", "lena")
_LAST = ("smith", "garcia", "kim", "novak", "okafor", "rossi", "tanaka", "weber", "silva", "ng")
_DOMAINS = ("example.com", "example.org", "mail.example.net", "corp.example.io")
_PLANS = ("Lite", "Small Business", "Pro", "Enterprise")
_COUNTRIES = ("US", "UK", "DE", "BR", "IN", "JP", "AU", "PL")
_PERSONAS = ("Individual", "Business User", "Admin", "Developer")
_CHANNELS = ("email", "web", "mobile:ios", "mobile:android")
_TAGS = ("PERFORMANCE", "UX", "CALL", "PRICING", "SUPPORT", "BUG")
#: the hostile strings a small share of comments carry instead of a topic comment (sandbox.base.topics)
_EDGE_CASES = (
    'They said "soon" \u2014 three weeks ago.',
    "Love it \U0001f60d\U0001f680",
    "L\u00ednea 1\nL\u00ednea 2: \u00e7a marche tr\u00e8s bien",
    "Tabs\tand backslashes \\ here",
    "\u65e5\u672c\u8a9e\u306e\u30b3\u30e1\u30f3\u30c8",
    "<b>html</b> & ampersands; 'single' quotes",
)
_NO_TEXT, _EMPTY_TEXT = 2 / 13, 3 / 13  # shares of responses without a comment and with "" (as ever)
_LANGUAGES = {"en": 0.6, "es": 0.25, "fr": 0.08, "ja": 0.07}
#: the tag a team gives a topic's comments (most of the time: the rest keep random tags)
_TOPIC_TAGS = {
    "billing": "PRICING",  # money: the sandbox's tag vocabulary (_TAGS) has no billing tag
    "support_wait": "SUPPORT",
    "bugs": "BUG",
    "onboarding": "UX",
    "pricing": "PRICING",
    "performance": "PERFORMANCE",
}


def ruby_round(value: float) -> int:
    """Half away from zero, as Wootric's Rails backend (Ruby's Float#round) and SQL's ROUND do;
    Python's round() would send 12.5 to 12."""
    return int(math.floor(abs(value) + 0.5)) * (1 if value >= 0 else -1)


def utc(epoch: int) -> datetime:
    """Canonical timestamp: timezone-aware UTC with whole seconds."""
    return datetime.fromtimestamp(int(epoch), UTC)


def _as_dt(value: datetime | int | str) -> datetime:
    """Accept a datetime, UNIX seconds or ISO string for note timestamps passed by tests."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(microsecond=0)
    if isinstance(value, str):
        return _as_dt(datetime.fromisoformat(value.replace("Z", "+00:00")))
    return utc(value)


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def epoch(dt: datetime) -> int:
    return int(dt.timestamp())


def format_dt(dt: datetime | None, offset_min: int, style: str) -> str | None:
    """Render an instant in a fixed UTC offset (local = UTC + offset) in one of the API's styles."""
    if dt is None:
        return None
    local = dt + timedelta(minutes=offset_min)
    sign = "+" if offset_min >= 0 else "-"
    hours, minutes = divmod(abs(offset_min), 60)
    if style == "iso_ms":
        return f"{local:%Y-%m-%dT%H:%M:%S}.000{sign}{hours:02d}:{minutes:02d}"
    if style == "space_colon":
        return f"{local:%Y-%m-%d %H:%M:%S}{sign}{hours:02d}:{minutes:02d}"
    return f"{local:%Y-%m-%d %H:%M:%S} {sign}{hours:02d}{minutes:02d}"


def _iso(dt: datetime) -> str:
    return dt.isoformat()[:19] + "Z"  # canonical datetimes are UTC with whole seconds


_LEAVES = frozenset({str, int, float, bool, type(None), datetime})
_LEAVES_NO_DT = frozenset({str, int, float, bool, type(None)})


def _clone(value: Any) -> Any:
    """Deep copy for JSON-like data; much faster than copy.deepcopy (datetimes are immutable)."""
    t = type(value)
    if t is dict:
        return {k: v if type(v) in _LEAVES else _clone(v) for k, v in value.items()}
    if t is list:
        return [v if type(v) in _LEAVES else _clone(v) for v in value]
    return value


def _copy_iso(value: Any) -> Any:
    """Like ``_clone`` but datetimes become ISO-8601 UTC strings with ``Z``."""
    t = type(value)
    if t is dict:
        return {k: v if type(v) in _LEAVES_NO_DT else _copy_iso(v) for k, v in value.items()}
    if t is list:
        return [v if type(v) in _LEAVES_NO_DT else _copy_iso(v) for v in value]
    if t is datetime:
        return _iso(value)
    return value


_SCORE_CUM = list(accumulate((3, 2, 2, 3, 3, 5, 6, 10, 14, 20, 22)))
_STYLE_CUM = list(accumulate(STYLE_WEIGHTS))


def _style_choice(styles: Sequence[str] | None) -> tuple[tuple[str, ...], list[float]]:
    """The styles new records are rendered in and their cumulative weights (None = the API's mix).

    A subset keeps the default relative weights of its members, e.g. ``("space",)`` renders every
    timestamp as ``2016-12-16 09:05:00 -0800``.
    """
    if styles is None:
        return STYLES, _STYLE_CUM
    chosen = tuple(dict.fromkeys(styles))
    unknown = [st for st in chosen if st not in STYLES]
    if unknown or not chosen:
        raise ValueError(f"styles must be a non-empty subset of {', '.join(STYLES)}, got {list(styles)!r}")
    return chosen, list(accumulate(STYLE_WEIGHTS[STYLES.index(st)] for st in chosen))


def _weighted(rng: random.Random, seq: Sequence[Any], cum: list[float] | list[int]) -> Any:
    return seq[bisect_right(cum, rng.random() * cum[-1])]


def _range(index: list[tuple[Any, int]], bounds: Bounds) -> tuple[int, int]:
    """Slice [a, b) of a sorted (key, id) index whose key lies within inclusive bounds."""
    lo, hi = bounds
    a = 0 if lo is None else bisect_left(index, (lo,))
    b = len(index) if hi is None else bisect_left(index, (hi + 1,))
    return a, max(a, b)


def _in(value: int, bounds: Bounds) -> bool:
    lo, hi = bounds
    return (lo is None or value >= lo) and (hi is None or value <= hi)


class Account:
    """One Wootric account: records, sorted indexes and static payloads; all methods are thread-safe."""

    def __init__(
        self,
        *,
        seed: int = 0,
        start: datetime | None = None,
        span_days: int = 365,
        styles: Sequence[str] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.styles, self._style_cum = _style_choice(styles)
        self.start = start or datetime(2023, 1, 1, tzinfo=UTC)
        self.span_days = span_days
        self._rng = random.Random(f"mutations-{seed}")  # separate stream: mutations never disturb generation
        self._commenter = Commenter(seed, "performance", _LANGUAGES, _EDGE_CASES, epoch(self.start), span_days * 86400)
        self._topics: dict[int, tuple[str, str]] = {}  # response id -> (topic, language): never served
        self._records: dict[str, dict[int, Record]] = {k: {} for k in KINDS}
        self._fmt: dict[str, dict[int, tuple[int, str]]] = {k: {} for k in KINDS}
        self._created: dict[str, list[tuple[int, int]]] = {k: [] for k in KINDS}
        self._created_epoch: dict[str, dict[int, int]] = {k: {} for k in KINDS}
        self._created_included: list[tuple[int, int]] = []  # responses not excluded_from_calculations
        self._updated: list[tuple[int, int]] = []  # end users only
        self._updated_epoch: dict[int, int] = {}
        self._email: list[tuple[str, int]] = []
        self._email_to_id: dict[str, int] = {}
        self._by_user: dict[str, dict[int, list[int]]] = {"responses": {}, "declines": {}}
        self._next_id: dict[str, int] = {k: 1 for k in KINDS}
        self.segments: list[dict[str, Any]] = [
            {"name": name, "data_type": dtype, "created_at": self.start + timedelta(days=i, hours=3)}
            for i, (name, dtype) in enumerate(
                [
                    ("plan", "string"),
                    ("country", "string"),
                    ("persona", "string"),
                    ("purchase_date", "date"),
                    ("revenue_amount", "integer"),
                ]
            )
        ]
        self.survey_templates: dict[str, Any] = {
            "default_survey_template_id": 1001,
            "survey_templates": [
                {
                    "id": 1001,
                    "name": "Your default NPS survey",
                    "default_language": "en",
                    "languages": [{"code": "en", "name": "English"}, {"code": "es", "name": "Spanish"}],
                    "non_configured_language_count": 1,
                    "custom_samplings": [],
                },
                {
                    "id": 1002,
                    "name": "Alternate Survey",
                    "default_language": "es",
                    "languages": [{"code": "es", "name": "Spanish"}, {"code": "en", "name": "English"}],
                    "non_configured_language_count": 2,
                    "custom_samplings": [],
                },
            ],
        }
        self.email_sources: dict[str, Any] = {
            "ongoing": [
                {"id": "email_api", "name": "Email API *"},
                {"id": "webhook_trigger", "name": "Webhook Trigger *"},
            ],
            "sends": [
                {"id": 1, "name": "Q1_file.csv", "date": "Jan 11, 2024 9:01AM"},
                {"id": 2, "name": "Q2_file.csv", "date": "Apr 14, 2024 9:04AM"},
                {"id": 3, "name": "Q3_file.csv", "date": "Jul 09, 2024 10:04AM"},
            ],
        }

    # ------------------------------------------------------------------ storage / indexes
    def _insert(self, kind: str, rec: Record, fmt: tuple[int, str]) -> None:
        rid = rec["id"]
        self._records[kind][rid] = rec
        self._fmt[kind][rid] = fmt
        c = epoch(rec["created_at"])
        self._created_epoch[kind][rid] = c
        insort(self._created[kind], (c, rid))
        self._next_id[kind] = max(self._next_id[kind], rid + 1)
        if kind == "responses" and not rec["excluded_from_calculations"]:
            insort(self._created_included, (c, rid))
        if kind == "end_users":
            u = epoch(rec["updated_at"])
            self._updated_epoch[rid] = u
            insort(self._updated, (u, rid))
            insort(self._email, (rec["email"], rid))
            self._email_to_id[rec["email"]] = rid
        else:
            self._by_user[kind].setdefault(rec["end_user_id"], []).append(rid)

    def _bulk_load(self, kind: str, recs: list[Record], fmts: list[tuple[int, str]]) -> None:
        """Insert many records at once and sort indexes once (generation speed)."""
        for rec, fmt in zip(recs, fmts, strict=True):
            rid = rec["id"]
            self._records[kind][rid] = rec
            self._fmt[kind][rid] = fmt
            c = epoch(rec["created_at"])
            self._created_epoch[kind][rid] = c
            self._created[kind].append((c, rid))
            self._next_id[kind] = max(self._next_id[kind], rid + 1)
            if kind == "responses" and not rec["excluded_from_calculations"]:
                self._created_included.append((c, rid))
            if kind == "end_users":
                u = epoch(rec["updated_at"])
                self._updated_epoch[rid] = u
                self._updated.append((u, rid))
                self._email.append((rec["email"], rid))
                self._email_to_id[rec["email"]] = rid
            else:
                self._by_user[kind].setdefault(rec["end_user_id"], []).append(rid)
        for idx in (self._created[kind], self._created_included, self._updated, self._email):
            idx.sort()

    def _reindex_response(self, rid: int, was_included: bool) -> None:
        rec = self._records["responses"][rid]
        key = (self._created_epoch["responses"][rid], rid)
        now_included = not rec["excluded_from_calculations"]
        if was_included and not now_included:
            pos = bisect_left(self._created_included, key)
            del self._created_included[pos]
        elif now_included and not was_included:
            insort(self._created_included, key)

    def _set_user_updated(self, uid: int, updated_at: datetime) -> None:
        old = (self._updated_epoch[uid], uid)
        del self._updated[bisect_left(self._updated, old)]
        self._records["end_users"][uid]["updated_at"] = updated_at
        self._updated_epoch[uid] = epoch(updated_at)
        insort(self._updated, (self._updated_epoch[uid], uid))

    # ------------------------------------------------------------------ record factories
    def _new_fmt(self, rng: random.Random) -> tuple[int, str]:
        # one draw for the style whatever ``styles`` is: restricting styles changes no other value
        return _pick(rng, OFFSETS_MIN), _weighted(rng, self.styles, self._style_cum)

    def _make_properties(self, rng: random.Random, created: int) -> dict[str, Any]:
        props: dict[str, Any] = {"plan": _pick(rng, _PLANS)}
        if rng.random() < 0.9:
            props["country"] = _pick(rng, _COUNTRIES)
        if rng.random() < 0.8:
            props["persona"] = _pick(rng, _PERSONAS)
        if rng.random() < 0.85:
            props["revenue_amount"] = 100 * _ri(rng, 0, 1000)
        if rng.random() < 0.7:
            props["purchase_date"] = created - _ri(rng, 0, 400 * 86400)
        if rng.random() < 0.15:
            props["items_array"] = "item1, item2"
        if rng.random() < 0.1:
            props["company"] = _pick(rng, ("Acme", "Globex", "Initech", "Umbrella"))
        return props

    def _make_end_user(self, rng: random.Random, uid: int, created: int, updated: int) -> Record:
        local = f"{_pick(rng, _FIRST)}.{_pick(rng, _LAST)}{uid}"
        email = f"{local}@{_pick(rng, _DOMAINS)}"
        return {
            "id": uid,
            "created_at": utc(created),
            "updated_at": utc(updated),
            "email": email,
            "last_surveyed": None,
            "external_created_at": (created - _ri(rng, 0, 900 * 86400)) if rng.random() < 0.6 else None,
            "last_seen_at": utc(_ri(rng, created, updated + 1)) if rng.random() < 0.5 else None,
            "properties": self._make_properties(rng, created),
            "phone_number": f"+1415555{_ri(rng, 0, 10_000):04d}" if rng.random() < 0.3 else None,
            "external_id": f"{rng.getrandbits(64):016x}" if rng.random() < 0.5 else None,
            "last_response": None,
            "settings": {
                "email_nps": rng.random() < 0.9,
                "mobile_nps": rng.random() < 0.8,
                "web_nps": True,
                "force_mobile_survey": None,
                "force_web_survey": None,
                "surveys_disabled_by_end_user": True if rng.random() < 0.05 else None,
            },
        }

    def _user_props_at(self, rng: random.Random, uid: int | None) -> dict[str, Any]:
        """The user's properties at survey time: usually current ones, sometimes an older plan."""
        user = self._records["end_users"].get(uid) if uid is not None else None
        props = dict(user["properties"]) if user else {}
        if user and rng.random() < 0.2:
            props["plan"] = _pick(rng, _PLANS)
        return props

    def _pick_user(self, rng: random.Random) -> int | None:
        users = self._email  # any list of all user ids works; sorted so it is deterministic
        return users[_ri(rng, 0, len(users))][1] if users else None

    def _make_response(
        self, rng: random.Random, rid: int, created: int, *, excluded_ratio: float, never_excluded: bool = False
    ) -> Record:
        uid = self._pick_user(rng)
        updated = created if rng.random() < 0.4 else created + _ri(rng, 1, 3 * 86400)
        notes: list[dict[str, Any]] = []
        if rng.random() < 0.05:
            notes = [
                {"id": rid * 10 + i, "text": f"Followed up ({i + 1})", "created_at": utc(_ri(rng, created, updated))}
                for i in range(1 + int(rng.random() * 2))
            ]
        tags = sorted(rng.sample(_TAGS, rng.randint(1, 2))) if rng.random() < 0.3 else []
        survey_id = _ri(rng, 1, 1_000_000)
        score, rising = self._commenter.score(_weighted(rng, range(11), _SCORE_CUM), 10, created)
        text, tags = self._comment(rid, rng.random(), score, rising, tags)
        return {
            "id": rid,
            "end_user_id": uid,
            "survey_id": survey_id,
            "score": score,
            "text": text,
            "completed": rng.random() < 0.8,
            "excluded_from_calculations": (not never_excluded) and rng.random() < excluded_ratio,
            "ip_address": f"10.{_ri(rng, 0, 256)}.{_ri(rng, 0, 256)}.{_ri(rng, 1, 255)}",
            "origin_url": _pick(rng, ("https://app.example.com/home", "https://example.com/pricing", None)),
            "created_at": utc(created),
            "updated_at": utc(updated),
            "tags": tags,
            "notes": notes,
            "end_user": {"properties": self._user_props_at(rng, uid)},
            "survey": {"channel": _pick(rng, _CHANNELS)},
        }

    def _comment(self, rid: int, u: float, score: int, rising: bool, tags: list[str]) -> tuple[str | None, list[str]]:
        """The response's text from ``u`` (None, "" or a comment, in the shares the sandbox always had)
        and its tags: a tagged topic comment mostly carries its topic's tag."""
        if u < _EMPTY_TEXT:
            return (None if u < _NO_TEXT else ""), tags
        text, label = self._commenter.comment((u - _EMPTY_TEXT) / (1 - _EMPTY_TEXT), score, 10, rising)
        if label is None:
            return text, tags
        self._topics[rid] = label
        tag = _TOPIC_TAGS.get(label[0])
        if tags and tag and self._commenter.rng.random() < 0.8:
            tags = sorted({tag, *tags[1:]})  # a second drawn tag stays as noise
        return text, tags

    def _make_decline(self, rng: random.Random, did: int, created: int) -> Record:
        uid = self._pick_user(rng)
        return {
            "id": did,
            "end_user_id": uid,
            "survey_id": _ri(rng, 1, 1_000_000),
            "ip_address": f"10.{_ri(rng, 0, 256)}.{_ri(rng, 0, 256)}.{_ri(rng, 1, 255)}",
            "origin_url": _pick(rng, ("https://app.example.com/home", "https://example.com/pricing", None)),
            "created_at": utc(created),
            "updated_at": utc(created),
            "end_user": {"properties": self._user_props_at(rng, uid)},
        }

    # ------------------------------------------------------------------ mutations (for tests)
    def _at(self, at: datetime | None) -> datetime:
        return (at.astimezone(UTC) if at else now_utc()).replace(microsecond=0)

    def add_end_users(self, n: int, at: datetime | None = None) -> list[Record]:
        """Create n end users created (and updated) at ``at`` (default now)."""
        with self.lock:
            when = epoch(self._at(at))
            out = []
            for _ in range(n):
                rec = self._make_end_user(self._rng, self._next_id["end_users"], when, when)
                rec["last_seen_at"] = None
                self._insert("end_users", rec, self._new_fmt(self._rng))
                out.append(_clone(rec))
            return out

    def add_responses(self, n: int, at: datetime | None = None) -> list[Record]:
        """Create n responses at ``at`` (default now); end users are left untouched (no updated_at bump)."""
        with self.lock:
            when = epoch(self._at(at))
            out = []
            for _ in range(n):
                rec = self._make_response(self._rng, self._next_id["responses"], when, excluded_ratio=0.0)
                rec["updated_at"] = rec["created_at"]
                rec["notes"] = []
                self._insert("responses", rec, self._new_fmt(self._rng))
                out.append(_clone(rec))
            return out

    def add_declines(self, n: int, at: datetime | None = None) -> list[Record]:
        """Create n declines at ``at`` (default now)."""
        with self.lock:
            when = epoch(self._at(at))
            out = []
            for _ in range(n):
                rec = self._make_decline(self._rng, self._next_id["declines"], when)
                self._insert("declines", rec, self._new_fmt(self._rng))
                out.append(_clone(rec))
            return out

    def update_end_users(self, ids_or_n: int | Iterable[int], at: datetime | None = None) -> list[Record]:
        """Change plan + last_seen_at of the given users (or n random ones) and bump updated_at."""
        with self.lock:
            if isinstance(ids_or_n, int):
                pool = sorted(self._records["end_users"])
                ids = self._rng.sample(pool, min(ids_or_n, len(pool)))
            else:
                ids = list(ids_or_n)
            out = []
            for uid in ids:
                rec = self._records["end_users"][uid]
                when = self._bumped(rec["updated_at"], at)
                props = rec["properties"]
                plan = props.get("plan")
                props["plan"] = _PLANS[(_PLANS.index(plan) + 1) % len(_PLANS)] if plan in _PLANS else "Pro"
                rec["last_seen_at"] = when
                self._set_user_updated(uid, when)
                out.append(_clone(rec))
            return out

    _RESPONSE_MUTABLE = frozenset({"tags", "notes", "completed", "excluded_from_calculations", "text"})

    def update_responses(self, ids: Iterable[int], at: datetime | None = None, **fields: Any) -> list[Record]:
        """Change mutable response fields and bump updated_at (created_at never changes).

        Without fields, a new tag is appended so every call yields a visible change.
        """
        bad = set(fields) - self._RESPONSE_MUTABLE
        if bad:
            raise ValueError(f"immutable or unknown response fields: {sorted(bad)}")
        with self.lock:
            out = []
            for rid in ids:
                rec = self._records["responses"][rid]
                was_included = not rec["excluded_from_calculations"]
                if not fields:
                    rec["tags"] = [*rec["tags"], f"UPDATED_{len(rec['tags']) + 1}"]
                if "text" in fields:
                    self._topics.pop(rid, None)  # an edited comment's topic is no longer known
                for key, value in fields.items():
                    if key == "notes":
                        value = [{**n, "created_at": _as_dt(n["created_at"])} for n in value]
                    rec[key] = _clone(value)
                rec["updated_at"] = self._bumped(rec["updated_at"], at)
                self._reindex_response(rid, was_included)
                out.append(_clone(rec))
            return out

    def _bumped(self, old: datetime, at: datetime | None) -> datetime:
        """New updated_at: ``at`` if given, else now but strictly after the previous value."""
        if at is not None:
            return self._at(at)
        return max(now_utc(), old + timedelta(seconds=1))

    # ------------------------------------------------------------------ reads
    def delete(self, kind: Kind, rid: int) -> None:
        """Remove a record, as the API's DELETE does (pages after it shift left); an end user's
        responses and declines stay, as Wootric keeps them."""
        with self.lock:
            rec = self._records[kind].pop(rid)
            self._fmt[kind].pop(rid)
            c = self._created_epoch[kind].pop(rid)
            self._created[kind].remove((c, rid))
            if kind == "end_users":
                self._updated.remove((self._updated_epoch.pop(rid), rid))
                self._email.remove((rec["email"], rid))
                self._email_to_id.pop(rec["email"], None)
                return
            if kind == "responses":
                self._topics.pop(rid, None)
            if kind == "responses" and (c, rid) in self._created_included:
                self._created_included.remove((c, rid))
            owned = self._by_user[kind].get(rec.get("end_user_id"))
            if owned and rid in owned:
                owned.remove(rid)

    def truth(self, kind: Kind, *, iso: bool = False) -> list[Record]:
        """Canonical records (deep copies) ordered by id: the ground truth for warehouse checks.

        ``iso=True`` turns datetimes into ``YYYY-MM-DDTHH:MM:SSZ`` strings (JSON-ready, used by
        the admin endpoint) during the same copy pass, which is much faster than a json default hook.
        """
        copy = _copy_iso if iso else _clone
        with self.lock, no_gc():
            recs = self._records[kind]
            return [copy(recs[i]) for i in sorted(recs)]

    def comments(self) -> list[Comment]:
        """(id, text, topic, language) of every response with a non-empty text, by id: the themes a
        clustering should recover. Never served over HTTP; topic and language are None for the
        hostile edge-case strings and for texts edited after generation."""
        with self.lock:
            recs = self._records["responses"]
            return [
                Comment(rid, recs[rid]["text"], *self._topics.get(rid, (None, None)))
                for rid in sorted(recs)
                if recs[rid]["text"]
            ]

    def count(self, kind: Kind) -> int:
        with self.lock:
            return len(self._records[kind])

    def get(self, kind: Kind, rid: int) -> Record | None:
        """The live canonical record (not a copy) or None; callers must hold ``lock`` while using it."""
        return self._records[kind].get(rid)

    def find_end_user(
        self, *, email: str | None = None, external_id: str | None = None, phone: str | None = None
    ) -> Record | None:
        with self.lock:
            if email is not None:
                uid = self._email_to_id.get(email)
                return self._records["end_users"].get(uid) if uid is not None else None
            for rec in self._records["end_users"].values():  # rare lookups: a scan is fine
                if (external_id is not None and rec["external_id"] == external_id) or (
                    phone is not None and rec["phone_number"] == phone
                ):
                    return rec
            return None

    def render(self, kind: Kind, record: Record) -> dict[str, Any]:
        """The record exactly as the API shows it: timestamps as strings in the record's style/offset."""
        with self.lock:
            offset, style = self._fmt[kind].get(record["id"], (-480, "space"))
        out = dict(record)
        for key in ("created_at", "updated_at", "last_surveyed", "last_seen_at"):
            if key in out:
                out[key] = format_dt(out[key], offset, style)
        for key in ("properties", "settings", "last_response", "end_user", "survey"):
            if isinstance(out.get(key), dict):
                out[key] = _clone(out[key])
        if "tags" in out:
            out["tags"] = list(out["tags"])
        if "notes" in out:
            out["notes"] = [{**n, "created_at": format_dt(n.get("created_at"), offset, style)} for n in out["notes"]]
        return out

    def render_settings(self, user: Record) -> dict[str, Any]:
        """Payload of /v1/end_users/<id>/settings (settings id == end user id)."""
        with self.lock:
            offset, style = self._fmt["end_users"].get(user["id"], (-480, "space"))
        s = user["settings"]
        return {
            "id": user["id"],
            "end_user_id": user["id"],
            "created_at": format_dt(user["created_at"], offset, style),
            "updated_at": format_dt(user["created_at"], offset, style),
            "email_nps": s["email_nps"],
            "mobile_nps": s["mobile_nps"],
            "web_nps": s["web_nps"],
            "force_web_survey": s["force_web_survey"],
            "force_mobile_survey": s["force_mobile_survey"],
        }

    def _index(self, kind: Kind, key: str, include_excluded: bool) -> list[tuple[Any, int]]:
        if key == "email":
            return self._email
        if key == "updated_at":
            return self._updated
        if kind == "responses" and not include_excluded:
            return self._created_included
        return self._created[kind]

    def _value(self, kind: Kind, key: str, rid: int) -> Any:
        if key == "email":
            return self._records["end_users"][rid]["email"]
        if key == "updated_at":
            return self._updated_epoch[rid]
        return self._created_epoch[kind][rid]

    def query(
        self,
        kind: Kind,
        *,
        created: Bounds = (None, None),
        updated: Bounds = (None, None),
        email: str | None = None,
        end_user_id: int | None = None,
        scores: Sequence[int] | None = None,
        sort_key: str = "created_at",
        descending: bool = False,
        offset: int = 0,
        limit: int = 25,
        include_excluded: bool = True,
    ) -> list[Record]:
        """One page of live records (hold ``lock`` while rendering them).

        Ordering is (sort_key, id) in the requested direction. The common case (filter on the
        sort field only) is bisect + slice; a second range filter either walks the sort index
        or materializes the narrower filter range, whichever is estimated cheaper.
        """
        with self.lock:
            recs = self._records[kind]
            filters: list[tuple[str, Bounds]] = [
                (f, b) for f, b in (("created_at", created), ("updated_at", updated)) if b != (None, None)
            ]
            small: list[int] | None = None
            if email is not None:
                uid = self._email_to_id.get(email)
                small = [uid] if uid is not None else []
            elif end_user_id is not None:
                small = list(self._by_user[kind].get(end_user_id, [])) if kind != "end_users" else []
            if small is None and scores is None:
                index = self._index(kind, sort_key, include_excluded)
                own = dict(filters).get(sort_key, (None, None))
                a, b = _range(index, own)
                others = [(f, bd) for f, bd in filters if f != sort_key]
                if not others:
                    return self._slice(recs, index, a, b, descending, offset, limit)
                narrow = min(
                    ((f, bd, *_range(self._index(kind, f, include_excluded), bd)) for f, bd in others),
                    key=lambda t: t[3] - t[2],
                )
                k_other = narrow[3] - narrow[2]
                walk_cost = min(b - a, (b - a) * (offset + limit) // max(k_other, 1))
                if walk_cost <= k_other:
                    return self._walk(kind, recs, index, a, b, descending, offset, limit, others)
                idx2 = self._index(kind, narrow[0], include_excluded)
                small = [rid for _, rid in idx2[narrow[2] : narrow[3]]]
            if small is None:
                small = [rid for _, rid in self._created[kind]]
            rows = [
                rid
                for rid in small
                if rid in recs
                and all(_in(self._value(kind, f, rid), bd) for f, bd in filters)
                and (include_excluded or kind != "responses" or not recs[rid]["excluded_from_calculations"])
                and (scores is None or recs[rid]["score"] in scores)
            ]
            rows.sort(key=lambda rid: (self._value(kind, sort_key, rid), rid), reverse=descending)
            return [recs[rid] for rid in rows[offset : offset + limit]]

    @staticmethod
    def _slice(
        recs: dict[int, Record], index: list[tuple[Any, int]], a: int, b: int, desc: bool, offset: int, limit: int
    ) -> list[Record]:
        if desc:
            hi = b - offset
            lo = max(a, hi - limit)
            return [recs[index[i][1]] for i in range(hi - 1, lo - 1, -1)] if hi > a else []
        lo = a + offset
        return [recs[index[i][1]] for i in range(lo, min(b, lo + limit))]

    def _walk(
        self,
        kind: Kind,
        recs: dict[int, Record],
        index: list[tuple[Any, int]],
        a: int,
        b: int,
        desc: bool,
        offset: int,
        limit: int,
        others: list[tuple[str, Bounds]],
    ) -> list[Record]:
        out: list[Record] = []
        skipped = 0
        positions = range(b - 1, a - 1, -1) if desc else range(a, b)
        for i in positions:
            rid = index[i][1]
            if not all(_in(self._value(kind, f, rid), bd) for f, bd in others):
                continue
            if skipped < offset:
                skipped += 1
                continue
            out.append(recs[rid])
            if len(out) >= limit:
                break
        return out

    def nps_summary(self, start: date, end: date) -> dict[str, int]:
        """NPS over non-excluded responses created within [start 00:00, end 23:59:59] UTC."""
        lo = epoch(datetime(start.year, start.month, start.day, tzinfo=UTC))
        hi = epoch(datetime(end.year, end.month, end.day, tzinfo=UTC)) + 86399
        with self.lock:
            a, b = _range(self._created_included, (lo, hi))
            recs = self._records["responses"]
            det = pas = pro = email_n = 0
            for _, rid in self._created_included[a:b]:
                rec = recs[rid]
                s = rec["score"]
                if s <= 6:
                    det += 1
                elif s <= 8:
                    pas += 1
                else:
                    pro += 1
                if rec.get("survey", {}).get("channel") == "email":
                    email_n += 1
            da, db = _range(self._created["declines"], (lo, hi))
        n = det + pas + pro
        shown = n + (db - da)
        return {
            "nps": ruby_round(100 * (pro - det) / n) if n else 0,
            "responses": n,
            "detractors": det,
            "passives": pas,
            "promoters": pro,
            "response_rate": ruby_round(100 * n / shown) if shown else 0,
            "email_response_rate": ruby_round(100 * email_n / shown) if shown else 0,
        }

    def render_segments(self) -> list[dict[str, Any]]:
        return [{**s, "created_at": format_dt(s["created_at"], -480, "space")} for s in self.segments]

    def email_stats(self, start: date | None = None, end: date | None = None) -> dict[str, Any]:
        """Deterministic v2 email stats derived from email-channel responses in the range."""
        start = start or self.start.date()
        end = end or (self.start + timedelta(days=self.span_days)).date()
        nps = self.nps_summary(start, end)
        total_responses = round(nps["responses"] * nps["email_response_rate"] / 100) if nps["responses"] else 0
        sent = max(total_responses * 3, 5)
        opened = (sent * 3) // 5
        return {
            "email_stats": {
                "send_date": f"{start:%b} {start.day}, {start.year}-{end:%b} {end.day}, {end.year}",
                "send_requests": sent + 2,
                "emails_sent": sent,
                "delivered": sent,
                "delivered_percentage": "100.0%",
                "bounce_rate": 0,
                "bounce_rate_percentage": "0.0%",
                "open_rate": f"{round(100 * opened / sent)}%",
                "response_rate": f"{round(100 * total_responses / sent)}%",
                "not_eligible": f"2 ({round(200 / (sent + 2))}%)",
                "raw_results": {
                    "processed": sent,
                    "bounce": 0,
                    "dropped": 0,
                    "delivered": sent,
                    "opted_out": 2,
                    "not_delivered": 0,
                    "open": opened,
                    "spamreport": 0,
                    "not_eligible": 0,
                    "total_surveys": sent,
                    "total_responses": total_responses,
                    "sart_date": f"{start:%Y-%m-%d}T00:00:00+00:00",  # sic: field name as in the reference
                    "end_date": f"{end:%Y-%m-%d}T23:59:59+00:00",
                },
            },
            "initial_send": None,
            "reminder_send": None,
        }


# ---------------------------------------------------------------------- generation
def _target_position(boundary: int, n: int, keep: float) -> int:
    """Records before the burst so it straddles ``boundary`` both among all records and among
    the ~``keep`` share visible by default (non-excluded responses), when both are possible."""
    lo = math.ceil((boundary - n + 1) / keep)
    hi = boundary - 1
    return (lo + hi) // 2 if lo <= hi else boundary - n // 2


def _burst_second(sorted_ts: list[int], n: int, j: int, s0: int, span: int, keep: float = 1.0) -> int:
    """Second for the j-th burst of a kind, chosen so the burst straddles a page-cap boundary.

    j=0 straddles ascending index 1500, j=1 descending index 1500 (i.e. from the newest end),
    j>=2 ascending index 1500*j; with too few records the burst sits at the median.
    """
    total = len(sorted_ts) + n
    if not sorted_ts:
        return s0 + span // 2
    if total <= PAGE_BOUNDARY:
        return sorted_ts[len(sorted_ts) // 2]
    if j == 1:
        pos = len(sorted_ts) - 1 - _target_position(PAGE_BOUNDARY, n, keep)
    else:
        pos = _target_position(PAGE_BOUNDARY * max(j, 1), n, keep)
    return sorted_ts[min(max(pos, 0), len(sorted_ts) - 1)]


def _timestamps(
    rng: random.Random,
    total: int,
    bursts: list[int],
    s0: int,
    span: int,
    *,
    extra: Sequence[int] = (),
    keep: float = 1.0,
) -> list[int]:
    """Sorted created seconds: random spread + ``extra`` fixed seconds + bursts placed on page boundaries."""
    base = sorted([*(s0 + _ri(rng, 0, span) for _ in range(max(total - sum(bursts), 0))), *extra])
    for j, n in enumerate(bursts):
        t = _burst_second(base, n, j, s0, span, keep)
        base.extend([t] * n)
        base.sort()
    return base


def generate_account(
    seed: int = 0,
    end_users: int = 200,
    responses: int = 2000,
    declines: int = 200,
    *,
    start: datetime = datetime(2023, 1, 1, tzinfo=UTC),
    span_days: int = 365,
    bursts: Sequence[tuple[int, str]] = (),
    excluded_ratio: float = 0.05,
    huge_second: int = 0,
    id_offset: int = 0,
    styles: tuple[str, ...] | None = None,
) -> Account:
    """Build a deterministic account (same arguments -> identical truth).

    Burst records count towards the kind's total (total = max(count, sum of bursts));
    ``huge_second`` adds that many extra, never-excluded responses sharing one second.
    Ids follow created order (ties get consecutive ids) and start at ``id_offset + 1``.
    ``styles`` restricts the timestamp styles records are rendered in (None = the API's mix of
    ``STYLES``); it changes only the rendering, never the records or their truth.
    """
    with no_gc():
        return _generate(
            seed,
            end_users,
            responses,
            declines,
            start,
            span_days,
            bursts,
            excluded_ratio,
            huge_second,
            id_offset,
            styles,
        )


def _generate(
    seed: int,
    end_users: int,
    responses: int,
    declines: int,
    start: datetime,
    span_days: int,
    bursts: Sequence[tuple[int, str]],
    excluded_ratio: float,
    huge_second: int,
    id_offset: int,
    styles: tuple[str, ...] | None = None,
) -> Account:
    rng = random.Random(seed)
    acct = Account(seed=seed, start=start, span_days=span_days, styles=styles)
    s0, span = epoch(start), span_days * 86400
    burst_map: dict[str, list[int]] = {k: [] for k in KINDS}
    for n, kind in bursts:
        if kind not in burst_map:
            raise ValueError(f"unknown burst kind {kind!r}")
        burst_map[kind].append(int(n))
    for kind in KINDS:
        acct._next_id[kind] = id_offset + 1

    # end users: created_at with bursts, then updated_at >= created_at with its own bursts
    n_users = max(end_users, sum(burst_map["end_users"]))
    created_u = _timestamps(rng, n_users, burst_map["end_users"], s0, span)
    updated_u = [c if rng.random() < 0.3 else c + _ri(rng, 1, 90 * 86400) for c in created_u]
    burst_users: set[int] = set()
    for j, n in enumerate(burst_map["end_users"]):
        order = sorted(range(n_users), key=lambda i: updated_u[i])
        t = _burst_second([updated_u[i] for i in order if i not in burst_users][: max(n_users - n, 1)], n, j, s0, span)
        eligible = [i for i in range(n_users) if i not in burst_users and created_u[i] <= t]
        movers = [i for i in eligible if updated_u[i] > t]  # moving these keeps positions before t stable
        pool = movers if len(movers) >= n else movers + [i for i in eligible if updated_u[i] <= t]
        chosen = rng.sample(pool, min(n, len(pool)))
        for i in chosen:
            updated_u[i] = t
        burst_users.update(chosen)
    users, fmts = [], []
    for i in range(n_users):
        users.append(acct._make_end_user(rng, id_offset + i + 1, created_u[i], updated_u[i]))
        fmts.append(acct._new_fmt(rng))
    acct._bulk_load("end_users", users, fmts)

    # responses (+ the huge second, never excluded so its full size is visible by default)
    n_resp = max(responses, sum(burst_map["responses"]))
    huge_t = s0 + span // 2 + 7
    resp_ts = _timestamps(
        rng, n_resp, burst_map["responses"], s0, span, extra=[huge_t] * huge_second, keep=1 - excluded_ratio
    )
    recs, fmts = [], []
    huge_left = huge_second
    for i, t in enumerate(resp_ts):
        huge = t == huge_t and huge_left > 0
        huge_left -= huge
        recs.append(acct._make_response(rng, id_offset + i + 1, t, excluded_ratio=excluded_ratio, never_excluded=huge))
        fmts.append(acct._new_fmt(rng))
    acct._bulk_load("responses", recs, fmts)

    n_decl = max(declines, sum(burst_map["declines"]))
    recs, fmts = [], []
    for i, t in enumerate(_timestamps(rng, n_decl, burst_map["declines"], s0, span)):
        recs.append(acct._make_decline(rng, id_offset + i + 1, t))
        fmts.append(acct._new_fmt(rng))
    acct._bulk_load("declines", recs, fmts)

    # end users' survey summary reflects generated history (later add_* calls leave it alone)
    last: dict[int, tuple[int, Record]] = {}
    for rec in acct._records["responses"].values():
        c = acct._created_epoch["responses"][rec["id"]]
        if rec["end_user_id"] is not None and c >= last.get(rec["end_user_id"], (-1, rec))[0]:
            last[rec["end_user_id"]] = (c, rec)
    for uid, (c, rec) in last.items():
        user = acct._records["end_users"][uid]
        user["last_surveyed"] = utc(c)
        user["last_response"] = {
            "id": rec["id"],
            "score": rec["score"],
            "text": rec["text"],
            "survey": {"channel": rec["survey"]["channel"]},
        }
    return acct
