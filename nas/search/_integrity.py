"""Before a run folder is resumed: is its SQLite study readable? Checked read-only, so a damaged
``study.db`` is never opened for writing (SQLAlchemy and Optuna would try to create their
tables in it) and the user is told how to recover."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from nas.errors import NasError

__all__ = ["check_study_file"]


def check_study_file(path: str | Path) -> None:
    """NasError (one line: the path, what is wrong, how to recover) when ``path`` exists and is
    not a readable SQLite database holding an Optuna study; nothing when it is, or is absent."""
    path = Path(path)
    if not path.exists():
        return
    fix = (f"nothing was written to it; keep it aside (mv {path} {path}.damaged) and rerun to "
           f"start the run afresh, or restore it from a backup (trials.parquet beside it still "
           f"holds the results so far)")
    try:
        con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            ok = con.execute("PRAGMA quick_check").fetchone()
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master "
                                                "WHERE type='table'")}
        finally:
            con.close()
    except sqlite3.Error as exc:
        raise NasError(f"{path} is not a readable SQLite study ({exc}); {fix}") from None
    if not ok or ok[0] != "ok":
        raise NasError(f"{path} is damaged (SQLite quick_check: {ok[0] if ok else '?'}); {fix}")
    if path.stat().st_size and "studies" not in tables:
        raise NasError(f"{path} holds no Optuna study (no 'studies' table); {fix}")
