{#- Written by `python -m analytics.dbt_models` from the built-in view's SQL (woku dataset): edit it there, not here. -#}
{%- if target.type == 'duckdb' %}
SELECT account, month, responses, ces_avg, ces_sd,
    (1.96 * ces_sd / SQRT(responses)) AS ces_margin,
    GREATEST(1, ces_avg - (1.96 * ces_sd / SQRT(responses))) AS ces_ci_low,
    LEAST(5, ces_avg + (1.96 * ces_sd / SQRT(responses))) AS ces_ci_high,
    (responses < 30 OR (1.96 * ces_sd / SQRT(responses)) > 0.2) AS small_sample
FROM (SELECT account, CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE) AS month, COUNT(*) AS responses,
        AVG(CAST(score AS DOUBLE)) AS ces_avg, STDDEV_SAMP(CAST(score AS DOUBLE)) AS ces_sd
    FROM {{ source('woku', 'ces_responses') }} WHERE score IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2) AS counts
{%- elif target.type == 'postgres' %}
SELECT account, month, responses, ces_avg, ces_sd,
    (1.96 * ces_sd / SQRT(responses)) AS ces_margin,
    GREATEST(1, ces_avg - (1.96 * ces_sd / SQRT(responses))) AS ces_ci_low,
    LEAST(5, ces_avg + (1.96 * ces_sd / SQRT(responses))) AS ces_ci_high,
    (responses < 30 OR (1.96 * ces_sd / SQRT(responses)) > 0.2) AS small_sample
FROM (SELECT account, CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE) AS month, COUNT(*) AS responses,
        AVG(CAST(score AS DOUBLE PRECISION)) AS ces_avg, STDDEV_SAMP(CAST(score AS DOUBLE PRECISION)) AS ces_sd
    FROM {{ source('woku', 'ces_responses') }} WHERE score IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2) AS counts
{%- elif target.type == 'bigquery' %}
SELECT account, month, responses, ces_avg, ces_sd,
    (1.96 * ces_sd / SQRT(responses)) AS ces_margin,
    GREATEST(1, ces_avg - (1.96 * ces_sd / SQRT(responses))) AS ces_ci_low,
    LEAST(5, ces_avg + (1.96 * ces_sd / SQRT(responses))) AS ces_ci_high,
    (responses < 30 OR (1.96 * ces_sd / SQRT(responses)) > 0.2) AS small_sample
FROM (SELECT account, DATE_TRUNC(DATE(created_at, 'UTC'), MONTH) AS month, COUNT(*) AS responses,
        AVG(CAST(score AS FLOAT64)) AS ces_avg, STDDEV_SAMP(CAST(score AS FLOAT64)) AS ces_sd
    FROM {{ source('woku', 'ces_responses') }} WHERE score IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2) AS counts
{%- elif target.type == 'snowflake' %}
SELECT account, month, responses, ces_avg, ces_sd,
    (1.96 * ces_sd / SQRT(responses)) AS ces_margin,
    GREATEST(1, ces_avg - (1.96 * ces_sd / SQRT(responses))) AS ces_ci_low,
    LEAST(5, ces_avg + (1.96 * ces_sd / SQRT(responses))) AS ces_ci_high,
    (responses < 30 OR (1.96 * ces_sd / SQRT(responses)) > 0.2) AS small_sample
FROM (SELECT account, DATE_TRUNC('MONTH', CAST(CONVERT_TIMEZONE('UTC', created_at) AS DATE)) AS month, COUNT(*) AS responses,
        AVG(CAST(score AS DOUBLE)) AS ces_avg, STDDEV_SAMP(CAST(score AS DOUBLE)) AS ces_sd
    FROM {{ source('woku', 'ces_responses') }} WHERE score IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2) AS counts
{%- else %}
{{ exceptions.raise_compiler_error('woku_ces_monthly: no SQL for a ' ~ target.type ~ ' target (duckdb, postgres, bigquery, snowflake)') }}
{%- endif %}
