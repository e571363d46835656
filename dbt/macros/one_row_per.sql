{#- A generic test: the model holds at most one row per combination of `columns` (its key). -#}
{% test one_row_per(model, columns) %}
SELECT {{ columns | join(', ') }}, COUNT(*) AS rows_with_this_key
FROM {{ model }}
GROUP BY {{ columns | join(', ') }}
HAVING COUNT(*) > 1
{% endtest %}
