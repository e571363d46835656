{#- Written by `python -m analytics.dbt_models` from the built-in view's SQL (wootric dataset): edit it there, not here. -#}
{%- if target.type == 'duckdb' %}
SELECT COALESCE(r.account, dc.account) AS account, COALESCE(r.month, dc.month) AS month,
    COALESCE(r.responses, 0) AS responses, COALESCE(dc.declines, 0) AS declines,
    100 * CAST(COALESCE(r.responses, 0) AS DOUBLE) / (COALESCE(r.responses, 0) + COALESCE(dc.declines, 0)) AS response_rate_pct,
    COALESCE(r.commented, 0) AS commented,
    CASE WHEN COALESCE(r.responses, 0) = 0 THEN NULL ELSE 100 * CAST(r.commented AS DOUBLE) / r.responses END AS comment_rate_pct
FROM (
    SELECT account, CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE) AS month, COUNT(*) AS responses,
        SUM(CASE WHEN TRIM(COALESCE(text, '')) <> '' THEN 1 ELSE 0 END) AS commented
    FROM {{ source('wootric', 'responses') }} WHERE COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
    GROUP BY 1, 2
) AS r
FULL OUTER JOIN (
    SELECT account, CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE) AS month, COUNT(*) AS declines FROM {{ source('wootric', 'declines') }} WHERE deleted_at IS NULL GROUP BY 1, 2
) AS dc ON dc.account = r.account AND dc.month = r.month
{%- elif target.type == 'postgres' %}
SELECT COALESCE(r.account, dc.account) AS account, COALESCE(r.month, dc.month) AS month,
    COALESCE(r.responses, 0) AS responses, COALESCE(dc.declines, 0) AS declines,
    100 * CAST(COALESCE(r.responses, 0) AS DOUBLE PRECISION) / (COALESCE(r.responses, 0) + COALESCE(dc.declines, 0)) AS response_rate_pct,
    COALESCE(r.commented, 0) AS commented,
    CASE WHEN COALESCE(r.responses, 0) = 0 THEN NULL ELSE 100 * CAST(r.commented AS DOUBLE PRECISION) / r.responses END AS comment_rate_pct
FROM (
    SELECT account, CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE) AS month, COUNT(*) AS responses,
        SUM(CASE WHEN TRIM(COALESCE(text, '')) <> '' THEN 1 ELSE 0 END) AS commented
    FROM {{ source('wootric', 'responses') }} WHERE COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
    GROUP BY 1, 2
) AS r
FULL OUTER JOIN (
    SELECT account, CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE) AS month, COUNT(*) AS declines FROM {{ source('wootric', 'declines') }} WHERE deleted_at IS NULL GROUP BY 1, 2
) AS dc ON dc.account = r.account AND dc.month = r.month
{%- elif target.type == 'bigquery' %}
SELECT COALESCE(r.account, dc.account) AS account, COALESCE(r.month, dc.month) AS month,
    COALESCE(r.responses, 0) AS responses, COALESCE(dc.declines, 0) AS declines,
    100 * CAST(COALESCE(r.responses, 0) AS FLOAT64) / (COALESCE(r.responses, 0) + COALESCE(dc.declines, 0)) AS response_rate_pct,
    COALESCE(r.commented, 0) AS commented,
    CASE WHEN COALESCE(r.responses, 0) = 0 THEN NULL ELSE 100 * CAST(r.commented AS FLOAT64) / r.responses END AS comment_rate_pct
FROM (
    SELECT account, DATE_TRUNC(DATE(created_at, 'UTC'), MONTH) AS month, COUNT(*) AS responses,
        SUM(CASE WHEN TRIM(COALESCE(text, '')) <> '' THEN 1 ELSE 0 END) AS commented
    FROM {{ source('wootric', 'responses') }} WHERE COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
    GROUP BY 1, 2
) AS r
FULL OUTER JOIN (
    SELECT account, DATE_TRUNC(DATE(created_at, 'UTC'), MONTH) AS month, COUNT(*) AS declines FROM {{ source('wootric', 'declines') }} WHERE deleted_at IS NULL GROUP BY 1, 2
) AS dc ON dc.account = r.account AND dc.month = r.month
{%- elif target.type == 'snowflake' %}
SELECT COALESCE(r.account, dc.account) AS account, COALESCE(r.month, dc.month) AS month,
    COALESCE(r.responses, 0) AS responses, COALESCE(dc.declines, 0) AS declines,
    100 * CAST(COALESCE(r.responses, 0) AS DOUBLE) / (COALESCE(r.responses, 0) + COALESCE(dc.declines, 0)) AS response_rate_pct,
    COALESCE(r.commented, 0) AS commented,
    CASE WHEN COALESCE(r.responses, 0) = 0 THEN NULL ELSE 100 * CAST(r.commented AS DOUBLE) / r.responses END AS comment_rate_pct
FROM (
    SELECT account, DATE_TRUNC('MONTH', CAST(CONVERT_TIMEZONE('UTC', created_at) AS DATE)) AS month, COUNT(*) AS responses,
        SUM(CASE WHEN TRIM(COALESCE(text, '')) <> '' THEN 1 ELSE 0 END) AS commented
    FROM {{ source('wootric', 'responses') }} WHERE COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
    GROUP BY 1, 2
) AS r
FULL OUTER JOIN (
    SELECT account, DATE_TRUNC('MONTH', CAST(CONVERT_TIMEZONE('UTC', created_at) AS DATE)) AS month, COUNT(*) AS declines FROM {{ source('wootric', 'declines') }} WHERE deleted_at IS NULL GROUP BY 1, 2
) AS dc ON dc.account = r.account AND dc.month = r.month
{%- else %}
{{ exceptions.raise_compiler_error('engagement_monthly: no SQL for a ' ~ target.type ~ ' target (duckdb, postgres, bigquery, snowflake)') }}
{%- endif %}
