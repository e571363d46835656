{#- Written by `python -m analytics.dbt_models` from the built-in view's SQL (wootric dataset): edit it there, not here. -#}
{%- if target.type == 'duckdb' %}
SELECT account, month, tag, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample,
    100 * CAST(detractors AS DOUBLE) / responses AS detractor_pct
FROM (
    SELECT account, month, tag,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
    FROM (
        SELECT DISTINCT r.account, r.id, r.score, CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE) AS month, t.tag AS tag
        FROM {{ source('wootric', 'responses') }} AS r, unnest(json_extract_string(r.tags, '$[*]')) AS t(tag)
        WHERE COALESCE(r.excluded_from_calculations, FALSE) = FALSE AND r.score IS NOT NULL AND r.deleted_at IS NULL
        UNION ALL
        SELECT r.account, r.id, r.score, CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE) AS month, CAST(NULL AS VARCHAR) AS tag
        FROM {{ source('wootric', 'responses') }} AS r
        WHERE COALESCE(json_array_length(r.tags), 0) = 0 AND COALESCE(r.excluded_from_calculations, FALSE) = FALSE AND r.score IS NOT NULL AND r.deleted_at IS NULL
    ) AS rows_by_tag
    GROUP BY 1, 2, 3
) AS counts
{%- elif target.type == 'postgres' %}
SELECT account, month, tag, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS DOUBLE PRECISION) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS DOUBLE PRECISION) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample,
    100 * CAST(detractors AS DOUBLE PRECISION) / responses AS detractor_pct
FROM (
    SELECT account, month, tag,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
    FROM (
        SELECT DISTINCT r.account, r.id, r.score, CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE) AS month, t.tag AS tag
        FROM {{ source('wootric', 'responses') }} AS r CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(r.tags) = 'array' THEN r.tags END) AS t(tag)
        WHERE COALESCE(r.excluded_from_calculations, FALSE) = FALSE AND r.score IS NOT NULL AND r.deleted_at IS NULL
        UNION ALL
        SELECT r.account, r.id, r.score, CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE) AS month, CAST(NULL AS TEXT) AS tag
        FROM {{ source('wootric', 'responses') }} AS r
        WHERE COALESCE(jsonb_array_length(CASE WHEN jsonb_typeof(r.tags) = 'array' THEN r.tags END), 0) = 0 AND COALESCE(r.excluded_from_calculations, FALSE) = FALSE AND r.score IS NOT NULL AND r.deleted_at IS NULL
    ) AS rows_by_tag
    GROUP BY 1, 2, 3
) AS counts
{%- elif target.type == 'bigquery' %}
SELECT account, month, tag, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS FLOAT64) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS FLOAT64) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample,
    100 * CAST(detractors AS FLOAT64) / responses AS detractor_pct
FROM (
    SELECT account, month, tag,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
    FROM (
        SELECT DISTINCT r.account, r.id, r.score, DATE_TRUNC(DATE(created_at, 'UTC'), MONTH) AS month, tag AS tag
        FROM {{ source('wootric', 'responses') }} AS r, UNNEST(JSON_VALUE_ARRAY(r.tags)) AS tag
        WHERE COALESCE(r.excluded_from_calculations, FALSE) = FALSE AND r.score IS NOT NULL AND r.deleted_at IS NULL
        UNION ALL
        SELECT r.account, r.id, r.score, DATE_TRUNC(DATE(created_at, 'UTC'), MONTH) AS month, CAST(NULL AS STRING) AS tag
        FROM {{ source('wootric', 'responses') }} AS r
        WHERE COALESCE(ARRAY_LENGTH(JSON_VALUE_ARRAY(r.tags)), 0) = 0 AND COALESCE(r.excluded_from_calculations, FALSE) = FALSE AND r.score IS NOT NULL AND r.deleted_at IS NULL
    ) AS rows_by_tag
    GROUP BY 1, 2, 3
) AS counts
{%- elif target.type == 'snowflake' %}
SELECT account, month, tag, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample,
    100 * CAST(detractors AS DOUBLE) / responses AS detractor_pct
FROM (
    SELECT account, month, tag,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
    FROM (
        SELECT DISTINCT r.account, r.id, r.score, DATE_TRUNC('MONTH', CAST(CONVERT_TIMEZONE('UTC', created_at) AS DATE)) AS month, CAST(t.value AS VARCHAR) AS tag
        FROM {{ source('wootric', 'responses') }} AS r, LATERAL FLATTEN(input => r.tags) AS t
        WHERE COALESCE(r.excluded_from_calculations, FALSE) = FALSE AND r.score IS NOT NULL AND r.deleted_at IS NULL
        UNION ALL
        SELECT r.account, r.id, r.score, DATE_TRUNC('MONTH', CAST(CONVERT_TIMEZONE('UTC', created_at) AS DATE)) AS month, CAST(NULL AS VARCHAR) AS tag
        FROM {{ source('wootric', 'responses') }} AS r
        WHERE COALESCE(ARRAY_SIZE(r.tags), 0) = 0 AND COALESCE(r.excluded_from_calculations, FALSE) = FALSE AND r.score IS NOT NULL AND r.deleted_at IS NULL
    ) AS rows_by_tag
    GROUP BY 1, 2, 3
) AS counts
{%- else %}
{{ exceptions.raise_compiler_error('nps_by_tag: no SQL for a ' ~ target.type ~ ' target (duckdb, postgres, bigquery, snowflake)') }}
{%- endif %}
