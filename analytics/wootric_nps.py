"""Wootric's NPS views, created (or replaced) after every load in the destination's own dialect.

NPS is rounded half away from zero like Wootric's own figures, on integers (`FLOOR((200·Δ + n) / 2n)`),
so every warehouse agrees to the point, with no floating-point ties.
"""

from typing import Dict

from analytics.error_bars import FLOAT, nps_error_bar_sql
from analytics.soft_delete import DELETED_AT

SCORE_COUNTS = """
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors"""


def nps_expression(promoters: str, detractors: str, responses: str) -> str:
    """Integer NPS, half away from zero, in SQL every supported warehouse runs."""
    delta = f"({promoters} - {detractors})"
    return (
        f"CASE WHEN {responses} = 0 THEN NULL"
        f" WHEN {delta} >= 0 THEN CAST(FLOOR((200 * {delta} + {responses}) / (2.0 * {responses})) AS BIGINT)"
        f" ELSE -CAST(FLOOR((-200 * {delta} + {responses}) / (2.0 * {responses})) AS BIGINT) END"
    )


_PROMOTERS = "SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END)"
_DETRACTORS = "SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END)"
_NPS_COLUMNS = f"""{SCORE_COUNTS},
    {nps_expression(_PROMOTERS, _DETRACTORS, "COUNT(*)")} AS nps"""


def _counted(alias: str = "") -> str:
    """A missing flag counts, as Wootric counts every response not explicitly excluded; rows that
    `verify --repair` marked deleted count nowhere."""
    r = f"{alias}." if alias else ""
    return (
        f"COALESCE({r}excluded_from_calculations, FALSE) = FALSE AND {r}score IS NOT NULL AND {r}{DELETED_AT} IS NULL"
    )


#: each dialect's (property name, its value as text, the FROM item listing a response's properties)
_PROPERTIES = {
    "duckdb": (
        "k.key",
        """json_extract_string(
        r.end_user__properties, '$."' || replace(replace(k.key, '\\', '\\\\'), '"', '\\"') || '"')""",
        ", unnest(json_keys(r.end_user__properties)) AS k(key)",
    ),
    "postgres": (
        "p.key",
        "p.value",
        """ CROSS JOIN LATERAL jsonb_each_text(
        CASE WHEN jsonb_typeof(r.end_user__properties) = 'object' THEN r.end_user__properties END) AS p(key, value)""",
    ),
    "bigquery": (
        "key",
        "JSON_VALUE(r.end_user__properties[key])",
        ", UNNEST(JSON_KEYS(r.end_user__properties, 1)) AS key",
    ),
    "snowflake": ("p.key", "CAST(p.value AS VARCHAR)", ", LATERAL FLATTEN(input => r.end_user__properties) AS p"),
}


def _segment_rows(dialect: str, ds: str) -> str:
    """Properties as they were when the response was given, one row per (response, property)."""
    key, value, listing = _PROPERTIES[dialect]
    return f"""
    SELECT r.account, r.id, r.score, {key} AS segment, {value} AS value
    FROM {ds}.responses AS r{listing}
    WHERE {_counted("r")}"""


#: the text type of each dialect
_TEXT = {"duckdb": "VARCHAR", "postgres": "TEXT", "bigquery": "STRING", "snowflake": "VARCHAR"}

#: each dialect's (a tag as text, the FROM item listing a response's tags, the test that it has none)
_TAGS = {
    "duckdb": (
        "t.tag",
        ", unnest(json_extract_string(r.tags, '$[*]')) AS t(tag)",
        "COALESCE(json_array_length(r.tags), 0) = 0",
    ),
    "postgres": (
        "t.tag",
        " CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(r.tags) = 'array' THEN r.tags END)"
        " AS t(tag)",
        "COALESCE(jsonb_array_length(CASE WHEN jsonb_typeof(r.tags) = 'array' THEN r.tags END), 0) = 0",
    ),
    "bigquery": (
        "tag",
        ", UNNEST(JSON_VALUE_ARRAY(r.tags)) AS tag",
        "COALESCE(ARRAY_LENGTH(JSON_VALUE_ARRAY(r.tags)), 0) = 0",
    ),
    "snowflake": (
        "CAST(t.value AS VARCHAR)",
        ", LATERAL FLATTEN(input => r.tags) AS t",
        "COALESCE(ARRAY_SIZE(r.tags), 0) = 0",
    ),
}


#: the UTC day and month of `created_at` in each dialect
UTC_DAY = {
    "duckdb": "CAST(created_at AT TIME ZONE 'UTC' AS DATE)",
    "postgres": "CAST(created_at AT TIME ZONE 'UTC' AS DATE)",
    "bigquery": "DATE(created_at, 'UTC')",
    "snowflake": "CAST(CONVERT_TIMEZONE('UTC', created_at) AS DATE)",
}
UTC_MONTH = {
    "duckdb": "CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE)",
    "postgres": "CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE)",
    "bigquery": "DATE_TRUNC(DATE(created_at, 'UTC'), MONTH)",
    "snowflake": "DATE_TRUNC('MONTH', CAST(CONVERT_TIMEZONE('UTC', created_at) AS DATE))",
}


#: every UTC day from each account's first response day to its last (`bounds`: account, first_day, last_day)
_EVERY_DAY = {
    "duckdb": "SELECT b.account, CAST(g.day AS DATE) AS day FROM bounds AS b, generate_series("
    "CAST(b.first_day AS TIMESTAMP), CAST(b.last_day AS TIMESTAMP), INTERVAL 1 DAY) AS g(day)",
    "postgres": "SELECT b.account, CAST(g.day AS DATE) AS day FROM bounds AS b"
    " CROSS JOIN LATERAL generate_series(b.first_day, b.last_day, INTERVAL '1 day') AS g(day)",
    "bigquery": "SELECT b.account, day FROM bounds AS b"
    " CROSS JOIN UNNEST(GENERATE_DATE_ARRAY(b.first_day, b.last_day)) AS day",
    "snowflake": "SELECT b.account, DATEADD(DAY, CAST(g.value AS INTEGER), b.first_day) AS day FROM bounds AS b,"
    " LATERAL FLATTEN(input => ARRAY_GENERATE_RANGE(0, DATEDIFF(DAY, b.first_day, b.last_day) + 1)) AS g",
}
#: the first day of a window of `w.window_days` days that ends on `s.day`
_WINDOW_START = {
    "duckdb": "s.day - (w.window_days - 1)",
    "postgres": "s.day - (w.window_days - 1)",
    "bigquery": "DATE_SUB(s.day, INTERVAL w.window_days - 1 DAY)",
    "snowflake": "DATEADD(DAY, 1 - w.window_days, s.day)",
}
ROLLING_WINDOWS = (30, 90)


def with_error_bar(dialect: str, keys: str, counts: str, extra: str = "") -> str:
    """The counts query (`SCORE_COUNTS` per `keys`) with its NPS and error bar beside it (and `extra` columns)."""
    return f"""SELECT {keys}, responses, promoters, passives, detractors,
    {nps_expression("promoters", "detractors", "responses")} AS nps,
    {nps_error_bar_sql(dialect, "promoters", "detractors", "responses")}{extra}
FROM ({counts}
) AS counts"""


def _rolling_sql(dialect: str, ds: str, counted: str) -> str:
    """NPS over the 30 and 90 days ending on each day, every day between an account's first and last response."""
    windows = " UNION ALL ".join(f"SELECT {w} AS window_days" for w in ROLLING_WINDOWS)
    counts = f"""
    WITH daily AS (
        SELECT account, {UTC_DAY[dialect]} AS day,{SCORE_COUNTS}
        FROM {ds}.responses WHERE {counted}
        GROUP BY 1, 2
    ), bounds AS (
        SELECT account, MIN(day) AS first_day, MAX(day) AS last_day FROM daily GROUP BY account
    ), days AS ({_EVERY_DAY[dialect]}), windows AS ({windows})
    SELECT s.account, s.day, w.window_days,
        COALESCE(SUM(d.responses), 0) AS responses, COALESCE(SUM(d.promoters), 0) AS promoters,
        COALESCE(SUM(d.passives), 0) AS passives, COALESCE(SUM(d.detractors), 0) AS detractors
    FROM days AS s CROSS JOIN windows AS w
    LEFT JOIN daily AS d ON d.account = s.account AND d.day BETWEEN {_WINDOW_START[dialect]} AND s.day
    GROUP BY 1, 2, 3"""
    keys = "account, day, window_days"
    return f"CREATE OR REPLACE VIEW {ds}.nps_rolling AS\n" + with_error_bar(dialect, keys, counts)


def _engagement_sql(dialect: str, ds: str, counted: str) -> str:
    """Response rate and comment rate per month: declines and responses joined on (account, month)."""
    f, month = FLOAT[dialect], UTC_MONTH[dialect]
    responses, declines = "COALESCE(r.responses, 0)", "COALESCE(dc.declines, 0)"
    return f"""CREATE OR REPLACE VIEW {ds}.engagement_monthly AS
SELECT COALESCE(r.account, dc.account) AS account, COALESCE(r.month, dc.month) AS month,
    {responses} AS responses, {declines} AS declines,
    100 * CAST({responses} AS {f}) / ({responses} + {declines}) AS response_rate_pct,
    COALESCE(r.commented, 0) AS commented,
    CASE WHEN {responses} = 0 THEN NULL ELSE 100 * CAST(r.commented AS {f}) / r.responses END AS comment_rate_pct
FROM (
    SELECT account, {month} AS month, COUNT(*) AS responses,
        SUM(CASE WHEN TRIM(COALESCE(text, '')) <> '' THEN 1 ELSE 0 END) AS commented
    FROM {ds}.responses WHERE {counted}
    GROUP BY 1, 2
) AS r
FULL OUTER JOIN (
    SELECT account, {month} AS month, COUNT(*) AS declines FROM {ds}.declines WHERE {DELETED_AT} IS NULL GROUP BY 1, 2
) AS dc ON dc.account = r.account AND dc.month = r.month"""


def _by_tag_sql(dialect: str, ds: str) -> str:
    """NPS per account, UTC month and tag: a response counts once under each of its tags, an untagged
    one (no `tags`, or `[]`) under tag NULL, which no tag as sent can collide with ('' is a tag)."""
    tag, listing, untagged = _TAGS[dialect]
    month = UTC_MONTH[dialect]
    counts = f"""
    SELECT account, month, tag,{SCORE_COUNTS}
    FROM (
        SELECT DISTINCT r.account, r.id, r.score, {month} AS month, {tag} AS tag
        FROM {ds}.responses AS r{listing}
        WHERE {_counted("r")}
        UNION ALL
        SELECT r.account, r.id, r.score, {month} AS month, CAST(NULL AS {_TEXT[dialect]}) AS tag
        FROM {ds}.responses AS r
        WHERE {untagged} AND {_counted("r")}
    ) AS rows_by_tag
    GROUP BY 1, 2, 3"""
    share = f",\n    100 * CAST(detractors AS {FLOAT[dialect]}) / responses AS detractor_pct"
    return f"CREATE OR REPLACE VIEW {ds}.nps_by_tag AS\n" + with_error_bar(
        dialect, "account, month, tag", counts, share
    )


def view_sql(dialect: str, ds: str) -> Dict[str, str]:
    """`CREATE OR REPLACE VIEW` statements by view name."""
    utc_day, utc_month, counted = UTC_DAY[dialect], UTC_MONTH[dialect], _counted()
    return {
        "nps_daily": f"""CREATE OR REPLACE VIEW {ds}.nps_daily AS
SELECT account, {utc_day} AS day,{_NPS_COLUMNS}
FROM {ds}.responses WHERE {counted}
GROUP BY 1, 2""",
        "nps_monthly": f"CREATE OR REPLACE VIEW {ds}.nps_monthly AS\n"
        + with_error_bar(
            dialect,
            "account, month",
            f"""
    SELECT account, {utc_month} AS month,{SCORE_COUNTS}
    FROM {ds}.responses WHERE {counted}
    GROUP BY 1, 2""",
        ),
        "nps_by_segment": f"CREATE OR REPLACE VIEW {ds}.nps_by_segment AS\n"
        + with_error_bar(
            dialect,
            "account, segment, value",
            f"""
    SELECT account, segment, value,{SCORE_COUNTS}
    FROM ({_segment_rows(dialect, ds)}
        UNION ALL
        SELECT account, id, score, 'survey_channel' AS segment, survey__channel AS value
        FROM {ds}.responses WHERE survey__channel IS NOT NULL AND {counted}
    ) AS rows_by_segment
    GROUP BY 1, 2, 3""",
        ),
        "feedback": f"""CREATE OR REPLACE VIEW {ds}.feedback AS
SELECT r.account, r.id AS response_id, r.created_at, r.score,
    CASE WHEN r.score >= 9 THEN 'promoter' WHEN r.score >= 7 THEN 'passive' WHEN r.score >= 0 THEN 'detractor' END
        AS category,
    r.text, r.tags, r.survey__channel AS channel, r.excluded_from_calculations,
    r.end_user_id, u.email, u.external_id
FROM {ds}.responses AS r LEFT JOIN {ds}.end_users AS u
    ON u.account = r.account AND u.id = r.end_user_id AND u.{DELETED_AT} IS NULL
WHERE r.{DELETED_AT} IS NULL""",
        "nps_rolling": _rolling_sql(dialect, ds, counted),
        "engagement_monthly": _engagement_sql(dialect, ds, counted),
        "nps_by_tag": _by_tag_sql(dialect, ds),
    }


#: tables each view reads
NEEDS = {
    "nps_daily": {"responses"},
    "nps_monthly": {"responses"},
    "nps_by_segment": {"responses"},
    "nps_rolling": {"responses"},
    "engagement_monthly": {"responses", "declines"},
    "feedback": {"responses", "end_users"},
    "nps_by_tag": {"responses"},
}
