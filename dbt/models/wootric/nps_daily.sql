{#- Written by `python -m analytics.dbt_models` from the built-in view's SQL (wootric dataset): edit it there, not here. -#}
{%- if target.type in ('duckdb', 'postgres') %}
SELECT account, CAST(created_at AT TIME ZONE 'UTC' AS DATE) AS day,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors,
    CASE WHEN COUNT(*) = 0 THEN NULL WHEN (SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) - SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END)) >= 0 THEN CAST(FLOOR((200 * (SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) - SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END)) + COUNT(*)) / (2.0 * COUNT(*))) AS BIGINT) ELSE -CAST(FLOOR((-200 * (SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) - SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END)) + COUNT(*)) / (2.0 * COUNT(*))) AS BIGINT) END AS nps
FROM {{ source('wootric', 'responses') }} WHERE COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
GROUP BY 1, 2
{%- elif target.type == 'bigquery' %}
SELECT account, DATE(created_at, 'UTC') AS day,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors,
    CASE WHEN COUNT(*) = 0 THEN NULL WHEN (SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) - SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END)) >= 0 THEN CAST(FLOOR((200 * (SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) - SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END)) + COUNT(*)) / (2.0 * COUNT(*))) AS BIGINT) ELSE -CAST(FLOOR((-200 * (SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) - SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END)) + COUNT(*)) / (2.0 * COUNT(*))) AS BIGINT) END AS nps
FROM {{ source('wootric', 'responses') }} WHERE COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
GROUP BY 1, 2
{%- elif target.type == 'snowflake' %}
SELECT account, CAST(CONVERT_TIMEZONE('UTC', created_at) AS DATE) AS day,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors,
    CASE WHEN COUNT(*) = 0 THEN NULL WHEN (SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) - SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END)) >= 0 THEN CAST(FLOOR((200 * (SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) - SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END)) + COUNT(*)) / (2.0 * COUNT(*))) AS BIGINT) ELSE -CAST(FLOOR((-200 * (SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) - SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END)) + COUNT(*)) / (2.0 * COUNT(*))) AS BIGINT) END AS nps
FROM {{ source('wootric', 'responses') }} WHERE COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
GROUP BY 1, 2
{%- else %}
{{ exceptions.raise_compiler_error('nps_daily: no SQL for a ' ~ target.type ~ ' target (duckdb, postgres, bigquery, snowflake)') }}
{%- endif %}
