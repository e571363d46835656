{#- Written by `python -m analytics.dbt_models` from the built-in view's SQL (wootric dataset): edit it there, not here. -#}
{%- if target.type == 'duckdb' %}
SELECT account, segment, value, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample
FROM (
    SELECT account, segment, value,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
    FROM (
    SELECT r.account, r.id, r.score, k.key AS segment, json_extract_string(
        r.end_user__properties, '$."' || replace(replace(k.key, '\', '\\'), '"', '\"') || '"') AS value
    FROM {{ source('wootric', 'responses') }} AS r, unnest(json_keys(r.end_user__properties)) AS k(key)
    WHERE COALESCE(r.excluded_from_calculations, FALSE) = FALSE AND r.score IS NOT NULL AND r.deleted_at IS NULL
        UNION ALL
        SELECT account, id, score, 'survey_channel' AS segment, survey__channel AS value
        FROM {{ source('wootric', 'responses') }} WHERE survey__channel IS NOT NULL AND COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
    ) AS rows_by_segment
    GROUP BY 1, 2, 3
) AS counts
{%- elif target.type == 'postgres' %}
SELECT account, segment, value, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS DOUBLE PRECISION) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS DOUBLE PRECISION) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE PRECISION) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample
FROM (
    SELECT account, segment, value,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
    FROM (
    SELECT r.account, r.id, r.score, p.key AS segment, p.value AS value
    FROM {{ source('wootric', 'responses') }} AS r CROSS JOIN LATERAL jsonb_each_text(
        CASE WHEN jsonb_typeof(r.end_user__properties) = 'object' THEN r.end_user__properties END) AS p(key, value)
    WHERE COALESCE(r.excluded_from_calculations, FALSE) = FALSE AND r.score IS NOT NULL AND r.deleted_at IS NULL
        UNION ALL
        SELECT account, id, score, 'survey_channel' AS segment, survey__channel AS value
        FROM {{ source('wootric', 'responses') }} WHERE survey__channel IS NOT NULL AND COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
    ) AS rows_by_segment
    GROUP BY 1, 2, 3
) AS counts
{%- elif target.type == 'bigquery' %}
SELECT account, segment, value, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS FLOAT64) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS FLOAT64) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS FLOAT64) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample
FROM (
    SELECT account, segment, value,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
    FROM (
    SELECT r.account, r.id, r.score, key AS segment, JSON_VALUE(r.end_user__properties[key]) AS value
    FROM {{ source('wootric', 'responses') }} AS r, UNNEST(JSON_KEYS(r.end_user__properties, 1)) AS key
    WHERE COALESCE(r.excluded_from_calculations, FALSE) = FALSE AND r.score IS NOT NULL AND r.deleted_at IS NULL
        UNION ALL
        SELECT account, id, score, 'survey_channel' AS segment, survey__channel AS value
        FROM {{ source('wootric', 'responses') }} WHERE survey__channel IS NOT NULL AND COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
    ) AS rows_by_segment
    GROUP BY 1, 2, 3
) AS counts
{%- elif target.type == 'snowflake' %}
SELECT account, segment, value, responses, promoters, passives, detractors,
    CASE WHEN responses = 0 THEN NULL WHEN (promoters - detractors) >= 0 THEN CAST(FLOOR((200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) ELSE -CAST(FLOOR((-200 * (promoters - detractors) + responses) / (2.0 * responses)) AS BIGINT) END AS nps,
    (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) AS nps_margin,
    GREATEST(-100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) - (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_low,
    LEAST(100, (100 * CAST(promoters - detractors AS DOUBLE) / NULLIF(responses, 0)) + (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0))) AS nps_ci_high,
    (responses < 30 OR (196.0 * SQRT(CAST(responses * (promoters + detractors) - (promoters - detractors) * (promoters - detractors) AS DOUBLE) / NULLIF(responses, 0)) / NULLIF(responses, 0)) > 10.0) AS small_sample
FROM (
    SELECT account, segment, value,
    COUNT(*) AS responses,
    SUM(CASE WHEN score >= 9 THEN 1 ELSE 0 END) AS promoters,
    SUM(CASE WHEN score BETWEEN 7 AND 8 THEN 1 ELSE 0 END) AS passives,
    SUM(CASE WHEN score <= 6 THEN 1 ELSE 0 END) AS detractors
    FROM (
    SELECT r.account, r.id, r.score, p.key AS segment, CAST(p.value AS VARCHAR) AS value
    FROM {{ source('wootric', 'responses') }} AS r, LATERAL FLATTEN(input => r.end_user__properties) AS p
    WHERE COALESCE(r.excluded_from_calculations, FALSE) = FALSE AND r.score IS NOT NULL AND r.deleted_at IS NULL
        UNION ALL
        SELECT account, id, score, 'survey_channel' AS segment, survey__channel AS value
        FROM {{ source('wootric', 'responses') }} WHERE survey__channel IS NOT NULL AND COALESCE(excluded_from_calculations, FALSE) = FALSE AND score IS NOT NULL AND deleted_at IS NULL
    ) AS rows_by_segment
    GROUP BY 1, 2, 3
) AS counts
{%- else %}
{{ exceptions.raise_compiler_error('nps_by_segment: no SQL for a ' ~ target.type ~ ' target (duckdb, postgres, bigquery, snowflake)') }}
{%- endif %}
