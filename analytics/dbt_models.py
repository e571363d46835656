"""The dbt package's models (`dbt/models`), written from the very SQL the pipelines' views run, so the
two cannot drift: `python -m analytics.dbt_models` rewrites them after a view changes, and a test fails
while a checked-in model differs from what this renders (docs/dbt.md).

Each model holds every dialect's SQL of its view behind `target.type`, with the dataset's tables read
through dbt `source()`s named after the vendor.
"""

import re
import sys
from pathlib import Path
from typing import Callable, Dict, List, Tuple

from analytics import woku_monthly, wootric_nps
from analytics.error_bars import FLOAT

#: the dbt source (the vendor's dataset) -> the function writing its views' SQL
VIEW_SQL: Dict[str, Callable[[str, str], Dict[str, str]]] = {
    "wootric": wootric_nps.view_sql,
    "woku": woku_monthly.view_sql,
}
DIALECTS = tuple(FLOAT)
MODELS_DIR = Path(__file__).resolve().parents[1] / "dbt" / "models"
#: the first line of every model this module writes (and may delete when its view is gone)
HEADER = "{#- Written by `python -m analytics.dbt_models` from the built-in view's SQL"
_DATASET = "__dataset__"


def _select(statement: str, name: str, source: str) -> str:
    """The view's SELECT, its dataset's tables read through `source()`."""
    head = f"CREATE OR REPLACE VIEW {_DATASET}.{name} AS\n"
    if not statement.startswith(head):
        raise ValueError(f"{name}: the view's SQL does not start with {head!r}")
    body = statement[len(head) :]
    if any(mark in body for mark in ("{{", "{%", "{#")):
        raise ValueError(f"{name}: the view's SQL holds a Jinja delimiter")
    return re.sub(rf"\b{_DATASET}\.(\w+)", rf"{{{{ source('{source}', '\1') }}}}", body)


def _branches(bodies: Dict[str, str]) -> List[Tuple[List[str], str]]:
    """Dialects that share the same SQL, grouped, in `DIALECTS` order."""
    groups: Dict[str, List[str]] = {}
    for dialect in DIALECTS:
        groups.setdefault(bodies[dialect], []).append(dialect)
    return [(dialects, body) for body, dialects in groups.items()]


def _condition(dialects: List[str]) -> str:
    if len(dialects) == 1:
        return f"target.type == '{dialects[0]}'"
    return f"target.type in ({', '.join(repr(d) for d in dialects)})"


def model_sql(source: str, name: str, bodies: Dict[str, str]) -> str:
    """One model: each dialect's SELECT behind `target.type`, an error for any other adapter."""
    lines = [f"{HEADER} ({source} dataset): edit it there, not here. -#}}"]
    for i, (dialects, body) in enumerate(_branches(bodies)):
        lines.append(f"{{%- {'if' if i == 0 else 'elif'} {_condition(dialects)} %}}")
        lines.append(body)
    supported = ", ".join(DIALECTS)
    lines.append("{%- else %}")
    lines.append(
        f"{{{{ exceptions.raise_compiler_error('{name}: no SQL for a ' ~ target.type ~ ' target ({supported})') }}}}"
    )
    lines.append("{%- endif %}")
    return "\n".join(lines) + "\n"


def render() -> Dict[str, str]:
    """Every model's text by its path under `dbt/models` (`wootric/nps_daily.sql`, ...)."""
    models = {}
    for source, view_sql in VIEW_SQL.items():
        by_dialect = {dialect: view_sql(dialect, _DATASET) for dialect in DIALECTS}
        for name in by_dialect[DIALECTS[0]]:
            bodies = {dialect: _select(views[name], name, source) for dialect, views in by_dialect.items()}
            models[f"{source}/{name}.sql"] = model_sql(source, name, bodies)
    return models


def written(models_dir: Path = MODELS_DIR) -> Dict[str, str]:
    """The models this module wrote that are on disk, by path under `models_dir`."""
    found = {}
    for path in sorted(models_dir.rglob("*.sql")):
        text = path.read_text()
        if text.startswith(HEADER):
            found[path.relative_to(models_dir).as_posix()] = text
    return found


def write(models_dir: Path = MODELS_DIR) -> List[str]:
    """Write every model and delete those whose view is gone; what changed, one line each."""
    models, changed = render(), []
    for stale in sorted(set(written(models_dir)) - set(models)):
        (models_dir / stale).unlink()
        changed.append(f"removed {stale}")
    for relative, text in models.items():
        path = models_dir / relative
        if not path.exists() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            changed.append(f"wrote {relative}")
    return changed


if __name__ == "__main__":
    changed = write(Path(sys.argv[1]) if len(sys.argv) > 1 else MODELS_DIR)
    print("\n".join(changed) or "dbt models: up to date")
