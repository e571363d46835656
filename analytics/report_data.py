"""What the NPS report shows, read from the analyst views: the monthly series and the newest detractor comments.

It reads only the views (`nps_monthly`, `engagement_monthly`, `feedback`), so it shows what an analyst's
SQL would. Months are summed over every account of the dataset; an error bar cannot be summed, so it is
recomputed from the summed counts with the views' own formula.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Dict, List, Optional, Sequence, Tuple

from dlt.destinations.exceptions import DatabaseUndefinedRelation

from analytics.error_bars import nps_error_bar, wootric_nps
from analytics.wootric_nps import nps_expression

COMMENTS = 12
#: themes shown in the report, those with the most detractors first, each with this many quotes
THEMES_SHOWN, QUOTES = 5, 3


@dataclass
class Month:
    month: date
    responses: int
    promoters: int
    passives: int
    detractors: int
    nps: Optional[int]
    #: from engagement_monthly, when the declines were loaded
    declines: Optional[int] = None
    commented: Optional[int] = None
    #: derived from the counts
    margin: Optional[float] = field(init=False, default=None)
    ci_low: Optional[float] = field(init=False, default=None)
    ci_high: Optional[float] = field(init=False, default=None)
    small_sample: bool = field(init=False, default=True)

    def __post_init__(self) -> None:
        bar = nps_error_bar(self.promoters, self.detractors, self.responses)
        self.margin, self.ci_low, self.ci_high = bar["nps_margin"], bar["nps_ci_low"], bar["nps_ci_high"]
        self.small_sample = bool(bar["small_sample"])

    @property
    def index(self) -> int:
        """Months since year 0: neighbours differ by 1, a gap by more."""
        return self.month.year * 12 + self.month.month - 1

    def share(self, count: int) -> float:
        return 100.0 * count / self.responses if self.responses else 0.0

    @property
    def response_rate(self) -> Optional[float]:
        asked = self.responses + (self.declines or 0)
        return None if self.declines is None or not asked else 100.0 * self.responses / asked

    @property
    def comment_rate(self) -> Optional[float]:
        return None if self.commented is None or not self.responses else 100.0 * self.commented / self.responses


@dataclass
class Comment:
    created_at: datetime
    score: int
    text: str
    email: Optional[str]


def total(months: Sequence[Month]) -> Month:
    """The whole period as one row: sums, and the NPS and error bar of those sums."""
    responses, promoters, detractors = (
        sum(getattr(m, key) for m in months) for key in ("responses", "promoters", "detractors")
    )
    have_rates = bool(months) and all(m.declines is not None for m in months)
    return Month(
        month=months[0].month if months else date.today(),
        responses=responses,
        promoters=promoters,
        passives=sum(m.passives for m in months),
        detractors=detractors,
        nps=wootric_nps(promoters, detractors, responses),
        declines=sum(m.declines or 0 for m in months) if have_rates else None,
        commented=sum(m.commented or 0 for m in months) if have_rates else None,
    )


def month_gaps(months: Sequence[Month]) -> List[Tuple[date, date]]:
    """(first, last) month of every run of months without responses between two months with some."""
    gaps = []
    for before, after in zip(months, months[1:], strict=False):
        if after.index - before.index > 1:
            first, last = before.index + 1, after.index - 1
            gaps.append((date(first // 12, first % 12 + 1, 1), date(last // 12, last % 12 + 1, 1)))
    return gaps


@dataclass
class TagNps:
    """One tag over the whole period, its last three months and the three before, from `nps_by_tag`."""

    tag: Optional[str]
    period: Month
    recent: Month
    before: Month

    @property
    def change(self) -> Optional[int]:
        """NPS of the last three months minus the three before, where both are measured."""
        if self.recent.nps is None or self.before.nps is None:
            return None
        return self.recent.nps - self.before.nps


def read_tags(sql: Any, dataset: str, last: Optional[Month]) -> List[TagNps]:
    """NPS per tag (every account summed), most answered first; empty without the view or responses."""
    if last is None:
        return []
    try:
        rows = sql.execute_sql(
            f"SELECT tag, month, SUM(responses), SUM(promoters), SUM(passives), SUM(detractors)"
            f" FROM {dataset}.nps_by_tag GROUP BY tag, month"
        )
    except DatabaseUndefinedRelation:
        return []
    by_tag: Dict[Optional[str], List[Month]] = {}
    for tag, m, n, p, pa, d in rows:
        month = Month(_as_date(m), int(n), int(p), int(pa), int(d), wootric_nps(int(p), int(d), int(n)))
        by_tag.setdefault(tag, []).append(month)
    tags = [
        TagNps(
            tag,
            total(months),
            total([m for m in months if last.index - m.index < 3]),
            total([m for m in months if 3 <= last.index - m.index < 6]),
        )
        for tag, months in by_tag.items()
    ]
    return sorted(tags, key=lambda t: (-t.period.responses, t.tag is None, t.tag or ""))


@dataclass
class Theme:
    """One account's comment theme (`comment_themes`) and the detractors `response_themes` put in it."""

    account: str
    label: str
    size: int
    nps: Optional[int]
    detractors: int = 0
    #: detractors in the last three months of data, and in the three before
    recent: int = 0
    before: int = 0
    #: its detractors' comments nearest the theme's centre
    quotes: List[Comment] = field(default_factory=list)


def read_themes(sql: Any, dataset: str, last: Optional[Month]) -> Optional[List[Theme]]:
    """The themes holding the most detractor comments; None where `themes` has not run (no tables)."""
    try:
        themes = {
            (account, int(theme)): Theme(account, label, int(size), None if nps is None else int(nps))
            for account, theme, label, size, nps in sql.execute_sql(
                f"SELECT account, theme_id, label, size, nps FROM {dataset}.comment_themes"
            )
        }
        assigned = {
            (account, str(response)): (int(theme), float(similarity))
            for account, response, theme, similarity in sql.execute_sql(
                f"SELECT account, response_id, theme_id, similarity FROM {dataset}.response_themes"
            )
        }
    except DatabaseUndefinedRelation:
        return None
    nearest: Dict[Tuple[str, int], List[Tuple[float, Comment]]] = {}
    for account, response, created, score, text, email in sql.execute_sql(
        f"SELECT account, response_id, created_at, score, text, email FROM {dataset}.feedback"
        " WHERE category = 'detractor' AND COALESCE(excluded_from_calculations, FALSE) = FALSE"
        " AND text IS NOT NULL AND TRIM(text) <> ''"
    ):
        if (account, str(response)) not in assigned:
            continue
        theme_id, similarity = assigned[(account, str(response))]
        theme = themes[(account, theme_id)]
        theme.detractors += 1
        utc = created.astimezone(timezone.utc)
        age = last.index - (utc.year * 12 + utc.month - 1) if last else 0
        theme.recent += age < 3
        theme.before += 3 <= age < 6
        nearest.setdefault((account, theme_id), []).append((similarity, Comment(created, int(score), text, email)))
    for key, quotes in nearest.items():
        quotes.sort(key=lambda q: (-q[0], q[1].created_at))
        themes[key].quotes = [comment for _, comment in quotes[:QUOTES]]
    ranked = sorted(themes.values(), key=lambda t: (-t.detractors, t.account, t.label))
    return [t for t in ranked if t.detractors][:THEMES_SHOWN]


def read_report_data(sql: Any, dataset: str) -> Tuple[List[Month], List[Comment], List[str]]:
    """The monthly series, the newest detractor comments and the accounts, through a dlt sql client."""
    engagement = _engagement(sql, dataset)
    months = [
        Month(
            _as_date(m),
            int(n),
            int(p),
            int(pa),
            int(d),
            None if nps is None else int(nps),
            **engagement.get(_as_date(m), {}),
        )
        for m, n, p, pa, d, nps in sql.execute_sql(
            # every account of the dataset together, NPS rounded as the views round it
            f"SELECT month, SUM(responses), SUM(promoters), SUM(passives), SUM(detractors),"
            f" {nps_expression('SUM(promoters)', 'SUM(detractors)', 'SUM(responses)')}"
            f" FROM {dataset}.nps_monthly GROUP BY month ORDER BY month"
        )
    ]
    comments = [
        Comment(created, int(score), text, email)
        for created, score, text, email in sql.execute_sql(
            f"SELECT created_at, score, text, email FROM {dataset}.feedback"
            " WHERE category = 'detractor' AND COALESCE(excluded_from_calculations, FALSE) = FALSE"
            " AND score IS NOT NULL AND text IS NOT NULL AND text <> ''"
            f" ORDER BY created_at DESC, response_id DESC LIMIT {COMMENTS}"
        )
    ]
    accounts = [row[0] for row in sql.execute_sql(f"SELECT DISTINCT account FROM {dataset}.nps_monthly ORDER BY 1")]
    return months, comments, accounts


def _engagement(sql: Any, dataset: str) -> Dict[date, Dict[str, int]]:
    """Declines and commented responses per month; empty when the declines were not loaded (no view)."""
    try:
        rows = sql.execute_sql(
            f"SELECT month, SUM(declines), SUM(commented) FROM {dataset}.engagement_monthly GROUP BY month"
        )
    except DatabaseUndefinedRelation:
        return {}
    return {_as_date(m): {"declines": int(k), "commented": int(c)} for m, k, c in rows}


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value
