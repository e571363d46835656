"""The views on rows the API should not send but might: NULL scores and flags, odd property names."""

import duckdb

from analytics.wootric_nps import view_sql


def test_null_scores_are_no_category_and_missing_flags_count() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA w")
    con.execute(
        "CREATE TABLE w.responses (account VARCHAR, id BIGINT, end_user_id BIGINT, score BIGINT, text VARCHAR,"
        " tags JSON, survey__channel VARCHAR, excluded_from_calculations BOOLEAN, created_at TIMESTAMPTZ,"
        " end_user__properties JSON, deleted_at TIMESTAMPTZ)"
    )
    con.execute(
        "CREATE TABLE w.end_users (account VARCHAR, id BIGINT, email VARCHAR, external_id VARCHAR,"
        " deleted_at TIMESTAMPTZ)"
    )
    con.execute("CREATE TABLE w.declines (account VARCHAR, id BIGINT, created_at TIMESTAMPTZ, deleted_at TIMESTAMPTZ)")
    con.execute(
        """INSERT INTO w.responses VALUES
        ('a', 1, 1, NULL, 'no score', '[]', 'web', FALSE, TIMESTAMPTZ '2024-01-01 10:00Z', '{"plan": "Pro"}', NULL),
        ('a', 2, 1, 10, 'flag unset', '[]', 'web', NULL, TIMESTAMPTZ '2024-01-01 11:00Z', '{"he said \\"hi\\"": "x"}',
         NULL),
        ('a', 3, 1, 3, 'excluded', '[]', 'web', TRUE, TIMESTAMPTZ '2024-01-01 12:00Z', '{"plan": "Pro"}', NULL)"""
    )
    for statement in view_sql("duckdb", "w").values():
        con.execute(statement)
    assert con.execute("SELECT responses, promoters, detractors, nps FROM w.nps_daily").fetchall() == [(1, 1, 0, 100)]
    categories = dict(con.execute("SELECT response_id, category FROM w.feedback").fetchall())
    assert categories == {1: None, 2: "promoter", 3: "detractor"}
    segments = con.execute("SELECT segment, value, responses FROM w.nps_by_segment ORDER BY 1").fetchall()
    assert segments == [('he said "hi"', "x", 1), ("survey_channel", "web", 1)]
    # the new views leave out the NULL score and the excluded response as the old ones do
    rolling = con.execute("SELECT window_days, responses, promoters, nps FROM w.nps_rolling ORDER BY 1").fetchall()
    assert rolling == [(30, 1, 1, 100), (90, 1, 1, 100)]
    engagement = con.execute("SELECT responses, declines, commented FROM w.engagement_monthly").fetchall()
    assert engagement == [(1, 0, 1)]


def test_rows_marked_deleted_leave_every_view() -> None:
    """`verify --repair` keeps rows the API no longer holds, with `deleted_at` set: no view counts them."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA w")
    con.execute(
        "CREATE TABLE w.responses (account VARCHAR, id BIGINT, end_user_id BIGINT, score BIGINT, text VARCHAR,"
        " tags JSON, survey__channel VARCHAR, excluded_from_calculations BOOLEAN, created_at TIMESTAMPTZ,"
        " end_user__properties JSON, deleted_at TIMESTAMPTZ)"
    )
    con.execute(
        "CREATE TABLE w.end_users (account VARCHAR, id BIGINT, email VARCHAR, external_id VARCHAR,"
        " deleted_at TIMESTAMPTZ)"
    )
    con.execute("CREATE TABLE w.declines (account VARCHAR, id BIGINT, created_at TIMESTAMPTZ, deleted_at TIMESTAMPTZ)")
    con.execute(
        """INSERT INTO w.responses VALUES
        ('a', 1, 1, 10, 'kept', '[]', 'web', FALSE, TIMESTAMPTZ '2024-01-01 10:00Z', '{"plan": "Pro"}', NULL),
        ('a', 2, 2, 0, 'gone', '[]', 'web', FALSE, TIMESTAMPTZ '2024-01-01 11:00Z', '{"plan": "Pro"}',
         TIMESTAMPTZ '2024-03-01 00:00Z')"""
    )
    con.execute("INSERT INTO w.end_users VALUES ('a', 1, 'gone@example.com', 'x', TIMESTAMPTZ '2024-03-01 00:00Z')")
    con.execute(
        "INSERT INTO w.declines VALUES ('a', 1, TIMESTAMPTZ '2024-01-02 00:00Z', NULL),"
        " ('a', 2, TIMESTAMPTZ '2024-01-02 00:00Z', TIMESTAMPTZ '2024-03-01 00:00Z')"
    )
    for statement in view_sql("duckdb", "w").values():
        con.execute(statement)
    assert con.execute("SELECT responses, detractors, nps FROM w.nps_monthly").fetchall() == [(1, 0, 100)]
    assert con.execute("SELECT SUM(responses) FROM w.nps_by_segment WHERE segment = 'plan'").fetchone() == (1,)
    assert con.execute("SELECT response_id, email FROM w.feedback").fetchall() == [(1, None)]
    assert con.execute("SELECT responses, declines FROM w.engagement_monthly").fetchall() == [(1, 1)]
    assert con.execute("SELECT MAX(responses) FROM w.nps_rolling").fetchone() == (1,)
