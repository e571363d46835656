{#- Written by `python -m analytics.dbt_models` from the built-in view's SQL (wootric dataset): edit it there, not here. -#}
{%- if target.type == 'duckdb' %}
SELECT account, day, window_days, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample
FROM (
    WITH daily AS (
        SELECT account, CAST(created_at AT TIME ZONE 'UTC' AS DATE) AS day,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
        FROM {{ source('wootric', 'responses') }} WHERE COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
        GROUP BY 1, 2
    ), bounds AS (
        SELECT account, MIN(day) AS first_day, MAX(day) AS last_day FROM daily GROUP BY account
    ), days AS (SELECT b.account, CAST(g.day AS DATE) AS day FROM bounds AS b, generate_series(CAST(b.first_day AS TIMESTAMP), CAST(b.last_day AS TIMESTAMP), INTERVAL 1 DAY) AS g(day)), windows AS (SELECT 30 AS window_days UNION ALL SELECT 90 AS window_days)
    SELECT s.account, s.day, w.window_days,
        COALESCE(SUM(d.responses), 0) AS responses, COALESCE(SUM(d.promoters), 0) AS promoters,
        COALESCE(SUM(d.passives), 0) AS passives, COALESCE(SUM(d.detractors), 0) AS detractors
    FROM days AS s CROSS JOIN windows AS w
    LEFT JOIN daily AS d ON d.account = s.account AND d.day BETWEEN s.day - (w.window_days - 1) AND s.day
    GROUP BY 1, 2, 3
) AS counts
{%- elif target.type == 'postgres' %}
SELECT account, day, window_days, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS DOUBLE PRECISION) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS DOUBLE PRECISION) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample
FROM (
    WITH daily AS (
        SELECT account, CAST(created_at AT TIME ZONE 'UTC' AS DATE) AS day,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
        FROM {{ source('wootric', 'responses') }} WHERE COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
        GROUP BY 1, 2
    ), bounds AS (
        SELECT account, MIN(day) AS first_day, MAX(day) AS last_day FROM daily GROUP BY account
    ), days AS (SELECT b.account, CAST(g.day AS DATE) AS day FROM bounds AS b CROSS JOIN LATERAL generate_series(b.first_day, b.last_day, INTERVAL '1 day') AS g(day)), windows AS (SELECT 30 AS window_days UNION ALL SELECT 90 AS window_days)
    SELECT s.account, s.day, w.window_days,
        COALESCE(SUM(d.responses), 0) AS responses, COALESCE(SUM(d.promoters), 0) AS promoters,
        COALESCE(SUM(d.passives), 0) AS passives, COALESCE(SUM(d.detractors), 0) AS detractors
    FROM days AS s CROSS JOIN windows AS w
    LEFT JOIN daily AS d ON d.account = s.account AND d.day BETWEEN s.day - (w.window_days - 1) AND s.day
    GROUP BY 1, 2, 3
) AS counts
{%- elif target.type == 'bigquery' %}
SELECT account, day, window_days, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS FLOAT64) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS FLOAT64) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample
FROM (
    WITH daily AS (
        SELECT account, DATE(created_at, 'UTC') AS day,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
        FROM {{ source('wootric', 'responses') }} WHERE COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
        GROUP BY 1, 2
    ), bounds AS (
        SELECT account, MIN(day) AS first_day, MAX(day) AS last_day FROM daily GROUP BY account
    ), days AS (SELECT b.account, day FROM bounds AS b CROSS JOIN UNNEST(GENERATE_DATE_ARRAY(b.first_day, b.last_day)) AS day), windows AS (SELECT 30 AS window_days UNION ALL SELECT 90 AS window_days)
    SELECT s.account, s.day, w.window_days,
        COALESCE(SUM(d.responses), 0) AS responses, COALESCE(SUM(d.promoters), 0) AS promoters,
        COALESCE(SUM(d.passives), 0) AS passives, COALESCE(SUM(d.detractors), 0) AS detractors
    FROM days AS s CROSS JOIN windows AS w
    LEFT JOIN daily AS d ON d.account = s.account AND d.day BETWEEN DATE_SUB(s.day, INTERVAL w.window_days - 1 DAY) AND s.day
    GROUP BY 1, 2, 3
) AS counts
{%- elif target.type == 'snowflake' %}
SELECT account, day, window_days, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample
FROM (
    WITH daily AS (
        SELECT account, CAST(CONVERT_TIMEZONE('UTC', created_at) AS DATE) AS day,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
        FROM {{ source('wootric', 'responses') }} WHERE COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
        GROUP BY 1, 2
    ), bounds AS (
        SELECT account, MIN(day) AS first_day, MAX(day) AS last_day FROM daily GROUP BY account
    ), days AS (SELECT b.account, DATEADD(DAY, CAST(g.value AS INTEGER), b.first_day) AS day FROM bounds AS b, LATERAL FLATTEN(input => ARRAY_GENERATE_RANGE(0, DATEDIFF(DAY, b.first_day, b.last_day) + 1)) AS g), windows AS (SELECT 30 AS window_days UNION ALL SELECT 90 AS window_days)
    SELECT s.account, s.day, w.window_days,
        COALESCE(SUM(d.responses), 0) AS responses, COALESCE(SUM(d.promoters), 0) AS promoters,
        COALESCE(SUM(d.passives), 0) AS passives, COALESCE(SUM(d.detractors), 0) AS detractors
    FROM days AS s CROSS JOIN windows AS w
    LEFT JOIN daily AS d ON d.account = s.account AND d.day BETWEEN DATEADD(DAY, 1 - w.window_days, s.day) AND s.day
    GROUP BY 1, 2, 3
) AS counts
{%- else %}
{{ exceptions.raise_compiler_error('nps_rolling: no SQL for a ' ~ target.type ~ ' target (duckdb, postgres, bigquery, snowflake)') }}
{%- endif %}
