{#- Written by `python -m analytics.dbt_models` from the built-in view's SQL (wootric dataset): edit it there, not here. -#}
{%- if target.type in ('duckdb', 'postgres', 'bigquery', 'snowflake') %}
SELECT r.account, r.id AS response_id, r.created_at, r.score,
    CASE WHEN r.score >= 9 THEN 'promoter' WHEN r.score >= 7 THEN 'passive' WHEN r.score >= 0 THEN 'detractor' END
        AS category,
    r.text, r.tags, r.survey__channel AS channel, r.excluded_from_calculations,
    r.end_user_id, u.email, u.external_id
FROM {{ source('wootric', 'responses') }} AS r LEFT JOIN {{ source('wootric', 'end_users') }} AS u
    ON u.account = r.account AND u.id = r.end_user_id AND u.deleted_at IS NULL
WHERE r.deleted_at IS NULL
{%- else %}
{{ exceptions.raise_compiler_error('feedback: no SQL for a ' ~ target.type ~ ' target (duckdb, postgres, bigquery, snowflake)') }}
{%- endif %}
