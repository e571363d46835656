{#- Written by `python -m analytics.dbt_models` from the built-in view's SQL (woku dataset): edit it there, not here. -#}
{%- if target.type == 'duckdb' %}
SELECT account, month, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample
FROM (SELECT account, CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE) AS month,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
    FROM {{ source('woku', 'nps_responses') }} WHERE score IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2
) AS counts
{%- elif target.type == 'postgres' %}
SELECT account, month, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS DOUBLE PRECISION) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS DOUBLE PRECISION) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample
FROM (SELECT account, CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE) AS month,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
    FROM {{ source('woku', 'nps_responses') }} WHERE score IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2
) AS counts
{%- elif target.type == 'bigquery' %}
SELECT account, month, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS FLOAT64) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS FLOAT64) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample
FROM (SELECT account, DATE_TRUNC(DATE(created_at, 'UTC'), MONTH) AS month,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
    FROM {{ source('woku', 'nps_responses') }} WHERE score IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2
) AS counts
{%- elif target.type == 'snowflake' %}
SELECT account, month, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample
FROM (SELECT account, DATE_TRUNC('MONTH', CAST(CONVERT_TIMEZONE('UTC', created_at) AS DATE)) AS month,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
    FROM {{ source('woku', 'nps_responses') }} WHERE score IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2
) AS counts
{%- else %}
{{ exceptions.raise_compiler_error('woku_nps_monthly: no SQL for a ' ~ target.type ~ ' target (duckdb, postgres, bigquery, snowflake)') }}
{%- endif %}
