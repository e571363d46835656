"""The views on rows the API should not send but might: NULL scores and flags, odd property names."""

import duckdb

from analytics.wootric_nps import view_sql


def test_null_scores_are_no_category_and_missing_flags_count() -> None:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA w")
    con.execute(
        "CREATE TABLE w.responses (account VARCHAR, id BIGINT, end_user_id BIGINT, score BIGINT, text VARCHAR,"
        " tags JSON, survey__channel VARCHAR, excluded_from_calculations BOOLEAN, created_at TIMESTAMPTZ,"
        " end_user__properties JSON)"
    )
    con.execute("CREATE TABLE w.end_users (account VARCHAR, id BIGINT, email VARCHAR, external_id VARCHAR)")
    con.execute("CREATE TABLE w.declines (account VARCHAR, id BIGINT, created_at TIMESTAMPTZ)")
    con.execute(
        """INSERT INTO w.responses VALUES
        ('a', 1, 1, NULL, 'no score', '[]', 'web', FALSE, TIMESTAMPTZ '2024-01-01 10:00Z', '{"plan": "Pro"}'),
        ('a', 2, 1, 10, 'flag unset', '[]', 'web', NULL, TIMESTAMPTZ '2024-01-01 11:00Z', '{"he said \\"hi\\"": "x"}'),
        ('a', 3, 1, 3, 'excluded', '[]', 'web', TRUE, TIMESTAMPTZ '2024-01-01 12:00Z', '{"plan": "Pro"}')"""
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
