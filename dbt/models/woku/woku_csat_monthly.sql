{#- Written by `python -m analytics.dbt_models` from the built-in view's SQL (woku dataset): edit it there, not here. -#}
{%- if target.type == 'duckdb' %}
SELECT account, month, responses, satisfied,
    100 * CAST(satisfied AS DOUBLE) / responses AS csat_pct,
    100 * (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS DOUBLE) / responses + 0.9604) / (responses + 3.8416)) AS csat_margin,
    100 * (((CAST(satisfied AS DOUBLE) + 1.9208) / (responses + 3.8416)) - (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS DOUBLE) / responses + 0.9604) / (responses + 3.8416))) AS csat_ci_low,
    100 * (((CAST(satisfied AS DOUBLE) + 1.9208) / (responses + 3.8416)) + (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS DOUBLE) / responses + 0.9604) / (responses + 3.8416))) AS csat_ci_high,
    (responses < 30 OR 100 * (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS DOUBLE) / responses + 0.9604) / (responses + 3.8416)) > 5.0) AS small_sample
FROM (SELECT account, CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE) AS month, COUNT(*) AS responses,
        SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END) AS satisfied
    FROM {{ source('woku', 'csat_responses') }} WHERE score IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2) AS counts
{%- elif target.type == 'postgres' %}
SELECT account, month, responses, satisfied,
    100 * CAST(satisfied AS DOUBLE PRECISION) / responses AS csat_pct,
    100 * (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS DOUBLE PRECISION) / responses + 0.9604) / (responses + 3.8416)) AS csat_margin,
    100 * (((CAST(satisfied AS DOUBLE PRECISION) + 1.9208) / (responses + 3.8416)) - (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS DOUBLE PRECISION) / responses + 0.9604) / (responses + 3.8416))) AS csat_ci_low,
    100 * (((CAST(satisfied AS DOUBLE PRECISION) + 1.9208) / (responses + 3.8416)) + (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS DOUBLE PRECISION) / responses + 0.9604) / (responses + 3.8416))) AS csat_ci_high,
    (responses < 30 OR 100 * (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS DOUBLE PRECISION) / responses + 0.9604) / (responses + 3.8416)) > 5.0) AS small_sample
FROM (SELECT account, CAST(DATE_TRUNC('month', created_at AT TIME ZONE 'UTC') AS DATE) AS month, COUNT(*) AS responses,
        SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END) AS satisfied
    FROM {{ source('woku', 'csat_responses') }} WHERE score IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2) AS counts
{%- elif target.type == 'bigquery' %}
SELECT account, month, responses, satisfied,
    100 * CAST(satisfied AS FLOAT64) / responses AS csat_pct,
    100 * (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS FLOAT64) / responses + 0.9604) / (responses + 3.8416)) AS csat_margin,
    100 * (((CAST(satisfied AS FLOAT64) + 1.9208) / (responses + 3.8416)) - (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS FLOAT64) / responses + 0.9604) / (responses + 3.8416))) AS csat_ci_low,
    100 * (((CAST(satisfied AS FLOAT64) + 1.9208) / (responses + 3.8416)) + (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS FLOAT64) / responses + 0.9604) / (responses + 3.8416))) AS csat_ci_high,
    (responses < 30 OR 100 * (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS FLOAT64) / responses + 0.9604) / (responses + 3.8416)) > 5.0) AS small_sample
FROM (SELECT account, DATE_TRUNC(DATE(created_at, 'UTC'), MONTH) AS month, COUNT(*) AS responses,
        SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END) AS satisfied
    FROM {{ source('woku', 'csat_responses') }} WHERE score IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2) AS counts
{%- elif target.type == 'snowflake' %}
SELECT account, month, responses, satisfied,
    100 * CAST(satisfied AS DOUBLE) / responses AS csat_pct,
    100 * (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS DOUBLE) / responses + 0.9604) / (responses + 3.8416)) AS csat_margin,
    100 * (((CAST(satisfied AS DOUBLE) + 1.9208) / (responses + 3.8416)) - (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS DOUBLE) / responses + 0.9604) / (responses + 3.8416))) AS csat_ci_low,
    100 * (((CAST(satisfied AS DOUBLE) + 1.9208) / (responses + 3.8416)) + (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS DOUBLE) / responses + 0.9604) / (responses + 3.8416))) AS csat_ci_high,
    (responses < 30 OR 100 * (1.96 * SQRT(CAST(satisfied * (responses - satisfied) AS DOUBLE) / responses + 0.9604) / (responses + 3.8416)) > 5.0) AS small_sample
FROM (SELECT account, DATE_TRUNC('MONTH', CAST(CONVERT_TIMEZONE('UTC', created_at) AS DATE)) AS month, COUNT(*) AS responses,
        SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END) AS satisfied
    FROM {{ source('woku', 'csat_responses') }} WHERE score IS NOT NULL AND deleted_at IS NULL GROUP BY 1, 2) AS counts
{%- else %}
{{ exceptions.raise_compiler_error('woku_csat_monthly: no SQL for a ' ~ target.type ~ ' target (duckdb, postgres, bigquery, snowflake)') }}
{%- endif %}
