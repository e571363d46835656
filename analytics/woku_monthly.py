"""Woku's NPS, CSAT and CES per account and UTC month, in the shape of Wootric's `nps_monthly` and with
the same kind of error bar, so analysts compare the vendors month by month (docs/analytics.md)."""

from typing import Dict

from analytics.error_bars import FLOAT, ces_error_bar_sql, csat_error_bar_sql
from analytics.soft_delete import DELETED_AT
from analytics.wootric_nps import SCORE_COUNTS, UTC_MONTH, with_error_bar

#: view -> the tables it reads
NEEDS = {
    "woku_nps_monthly": {"nps_responses"},
    "woku_csat_monthly": {"csat_responses"},
    "woku_ces_monthly": {"ces_responses"},
}


def view_sql(dialect: str, ds: str) -> Dict[str, str]:
    """`CREATE OR REPLACE VIEW` statements by view name; rows marked `deleted_at` are left out."""
    month, f = UTC_MONTH[dialect], FLOAT[dialect]

    def counts_from(table: str) -> str:
        return f"FROM {ds}.{table} WHERE score IS NOT NULL AND {DELETED_AT} IS NULL GROUP BY 1, 2"

    nps_counts = f"""SELECT account, {month} AS month,{SCORE_COUNTS}
    {counts_from("nps_responses")}"""
    csat_counts = f"""SELECT account, {month} AS month, COUNT(*) AS responses,
        SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END) AS satisfied
    {counts_from("csat_responses")}"""
    ces_counts = f"""SELECT account, {month} AS month, COUNT(*) AS responses,
        AVG(CAST(score AS {f})) AS ces_avg, STDDEV_SAMP(CAST(score AS {f})) AS ces_sd
    {counts_from("ces_responses")}"""
    return {
        "woku_nps_monthly": f"CREATE OR REPLACE VIEW {ds}.woku_nps_monthly AS\n"
        + with_error_bar(dialect, "account, month", nps_counts),
        "woku_csat_monthly": f"""CREATE OR REPLACE VIEW {ds}.woku_csat_monthly AS
SELECT account, month, responses, satisfied,
    {csat_error_bar_sql(dialect, "satisfied", "responses")}
FROM ({csat_counts}) AS counts""",
        "woku_ces_monthly": f"""CREATE OR REPLACE VIEW {ds}.woku_ces_monthly AS
SELECT account, month, responses, ces_avg, ces_sd,
    {ces_error_bar_sql("ces_avg", "ces_sd", "responses")}
FROM ({ces_counts}) AS counts""",
    }
