"""The lost-answer rule: for a voicemail whose POST got no answer, did Woku create it? Once the POST has
surely settled, read the woku's reviews back to its send time and match the candidates (the rule and its
assumptions: docs/writeback.md). It errs towards not sending: the API cannot delete a duplicate."""

from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple, Union

from pipelines.writeback.ledger import (
    ACCEPTED,
    AMBIGUOUS,
    NOT_CREATED,
    PENDING,
    RECOVERED,
    SUBMITTED,
    UNCERTAIN,
    LedgerEntry,
    Record,
)
from sources.http_kit import ApiError
from sources.http_kit.redact import one_line
from sources.record_kit.timestamps import to_utc

REVIEWS_PATH = "/v1/wokus/{woku_id}/reviews"
#: how far our clock and the API's may disagree when comparing a send time with a review's createdAt
DEFAULT_SKEW_SECONDS = 60.0
#: a woku's reviews, or why they could not be read
Reviews = Union[Sequence[Record], ApiError]


def decide(entry: LedgerEntry, status: str, reason: str, review: Optional[Record] = None) -> None:
    """Write the rule's decision (and the review found, if any) onto the entry."""
    entry.status, entry.message = status, reason
    if review is not None:
        entry.answer = dict(review)
        entry.review_id = text_or_none(review.get("_id"))
        entry.client_id, entry.file_url = answer_ids(review)


def read_reviews(client: Any, pending: Sequence[LedgerEntry], skew: float) -> Dict[str, Reviews]:
    """Per woku of `pending`: its reviews created since its earliest send (newest first, older pages not
    read), or the ApiError that kept them from being read."""
    found: Dict[str, Reviews] = {}
    for woku_id in sorted({e.woku_id for e in pending}):
        floor = min((e.sent_at or 0.0) for e in pending if e.woku_id == woku_id) - skew
        since = datetime.fromtimestamp(floor, timezone.utc)
        try:
            pages = list(client.pages_since(REVIEWS_PATH.format(woku_id=woku_id), since))
        except ApiError as exc:  # AuthError is not one: it ends the run
            found[woku_id] = exc
            continue
        seen: Dict[str, Record] = {}
        for page in pages:
            for r in page:
                if isinstance(r, dict):
                    seen.setdefault(str(r.get("_id") or id(r)), r)
        found[woku_id] = list(seen.values())
    return found


def resolve(
    pending: Sequence[LedgerEntry],
    reviews_by_woku: Mapping[str, Reviews],
    entries: Iterable[LedgerEntry],
    *,
    settle: float,
    skew: float = DEFAULT_SKEW_SECONDS,
) -> None:
    """The rule's decision for each pending entry, written onto it, given its woku's reviews and every ledger
    entry (the clients they prove, the reviews they claim). Entries competing for the same reviews get one
    each; when one of a woku's entries is left without, they are all `ambiguous`."""
    entries = list(entries)
    known = known_clients(entries)
    known_ids = set(known.values())
    claimed = {i for e in entries for i in claims(e)}
    candidates: Dict[str, List[Record]] = {}
    for e in pending:
        reviews = reviews_by_woku.get(e.woku_id, ())
        if isinstance(reviews, ApiError):
            if reviews.status == 404:  # the woku is gone, and every review with it
                decide(e, NOT_CREATED, "the woku no longer exists: not created")
            else:
                why = f"answer lost; its woku's reviews could not be read ({one_line(reviews.describe())})"
                decide(e, PENDING, why)
            continue
        client_id = None if e.anonymous else known.get(e.client)
        lo = (e.sent_at or 0.0) - skew
        hi = e.settled_at(settle) + skew
        found = []
        for r in reviews:
            created = _epoch(r.get("createdAt"))
            if created is None or not lo <= created <= hi or review_identities(r) & claimed:
                continue
            if r.get("type", "voice") != "voice" or _qualification(r) != e.qualification:
                continue
            if "anonymous" in r and bool(r["anonymous"]) != e.anonymous:
                continue
            if e.language and r.get("language") not in (None, e.language):
                continue
            if client_id is not None and r.get("clientId") != client_id:
                continue
            if client_id is None and r.get("clientId") in known_ids:
                continue  # another email's proven client: not ours
            found.append((created, r))
        candidates[e.key] = [r for _, r in sorted(found, key=lambda x: x[0])]

    # in send order, each entry takes its earliest free candidate (reviews are created in send order)
    readable = [e for e in pending if e.key in candidates]
    assigned: Dict[str, Record] = {}
    taken: Set[str] = set()
    for e in sorted(readable, key=lambda e: (e.sent_at or 0.0, e.key)):
        free = [r for r in candidates[e.key] if _identity(r) not in taken]
        if free:
            assigned[e.key] = free[0]
            taken.add(_identity(free[0]))
    for e in readable:
        # a woku's entries with candidates stand or fall together: when one is left without a review,
        # which of them were created cannot be told
        group = [o.key for o in readable if o.woku_id == e.woku_id and candidates[o.key]]
        if not candidates[e.key]:
            decide(e, NOT_CREATED, "not among the woku's reviews: not created")
        elif all(k in assigned for k in group):
            proven = not e.anonymous and e.client in known
            how = "the client's id" if proven else "woku, qualification and time (client unprovable)"
            found_by = f"answer lost; found among the woku's reviews by {how}"
            decide(e, RECOVERED if proven else UNCERTAIN, found_by, assigned[e.key])
        else:
            ids = {_identity(r) for k in group for r in candidates[k]}
            why = f"{len(group)} lost answers compete for {len(ids)} review(s): cannot tell which were created"
            decide(e, AMBIGUOUS, f"{why}; not sent again (set status accepted, or delete the ledger row to send it)")


def _identities(url: Optional[str], review_id: Optional[str]) -> Set[str]:
    """A review's file url and id, as identities no two entries may both match."""
    return {i for i in (url and f"url:{url}", review_id and f"id:{review_id}") if i}


def review_identities(review: Mapping[str, Any]) -> Set[str]:
    return _identities(answer_ids(review)[1], review.get("_id"))


def claims(entry: LedgerEntry) -> Set[str]:
    """The review a submitted entry stands for, as identities no other entry may match."""
    if entry.status not in SUBMITTED:
        return set()
    return _identities(entry.file_url, entry.review_id)


def known_clients(entries: Iterable[LedgerEntry]) -> Dict[str, str]:
    """client key (`email:...`) -> clientId, from answers that prove it (never from an uncertain match)."""
    return {
        e.client: e.client_id for e in entries if e.status in (ACCEPTED, RECOVERED) and not e.anonymous and e.client_id
    }


def _identity(review: Mapping[str, Any]) -> str:
    ids = sorted(review_identities(review))
    return ids[0] if ids else f"obj:{id(review)}"


def _epoch(value: Any) -> Optional[float]:
    try:
        parsed = to_utc(value)
    except (TypeError, ValueError):
        return None
    return parsed.timestamp() if parsed is not None else None


def _qualification(review: Mapping[str, Any]) -> Optional[int]:
    q = review.get("qualification")
    if isinstance(q, dict):
        q = q.get("qualification")
    try:
        return int(q) if q is not None and not isinstance(q, bool) else None
    except (TypeError, ValueError):
        return None


def text_or_none(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def answer_ids(record: Mapping[str, Any]) -> Tuple[Optional[str], Optional[str]]:
    """(clientId, file url) of an API answer or a review, as the ledger keeps them."""
    file = record.get("file") if isinstance(record.get("file"), dict) else {}
    return text_or_none(record.get("clientId")), text_or_none(file.get("url"))
