"""A set of views made and dropped together: the one mechanism behind every vendor's views.

A view is (re)created only when every table it reads was loaded (the pipeline's schema lists it),
and dropped before a refresh drops those tables (Postgres refuses to drop a table a view reads).
"""

from typing import Any, Callable, Collection, Dict, List, Mapping

from analytics.soft_delete import tables_with_deleted_at

#: (dialect, dataset, tables with soft-deleted rows) -> `CREATE OR REPLACE VIEW` statements by name
ViewSql = Callable[[str, str, Collection[str]], Dict[str, str]]


def drop_views(pipeline: Any, names: Collection[str], dialects: Collection[str]) -> None:
    """Drop the named views, where the dataset exists and the destination speaks one of `dialects`."""
    if pipeline.destination.destination_name not in dialects:
        return
    with pipeline.sql_client() as sql:
        if not sql.has_dataset():
            return
        ds = sql.fully_qualified_dataset_name()
        for name in names:
            sql.execute_sql(f"DROP VIEW IF EXISTS {ds}.{name}")


def create_views(
    pipeline: Any, view_sql: ViewSql, needs: Mapping[str, Collection[str]], dialects: Collection[str]
) -> List[str]:
    """Create or replace each view whose tables (`needs`) were loaded; the names created."""
    dialect = pipeline.destination.destination_name
    if dialect not in dialects:
        return []
    tables = set(pipeline.default_schema.tables) if pipeline.default_schema_name else set()
    created = []
    with pipeline.sql_client() as sql:
        ds = sql.fully_qualified_dataset_name()
        for name, statement in view_sql(dialect, ds, tables_with_deleted_at(sql, dialect)).items():
            if set(needs[name]) <= tables:
                # Postgres cannot replace a view whose columns changed (the account column came later)
                sql.execute_sql(f"DROP VIEW IF EXISTS {ds}.{name}")
                sql.execute_sql(statement)
                created.append(name)
    return created
