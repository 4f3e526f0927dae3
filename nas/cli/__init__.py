"""The ``nas`` command line. It only parses arguments and calls typed library functions.

Bad input (a :class:`~nas.errors.NasError`, or a usage error) and every file-system, storage
or data error (an unwritable ``--out``, a damaged ``study.db``) becomes one line on stderr naming
what is wrong and how to fix it, exit code 2, never a traceback. Anything else is a bug of nas:
one line and exit 1 (``NAS_TRACEBACK=1`` shows the traceback).

The command also reads the environment for the library: ``NAS_DATA_CACHE`` (a folder for the
decoded data sets, :func:`nas.data.set_disk_cache`). Before torch loads it sets
``THP_MEM_ALLOC_ENABLE=1`` unless the user set it (:func:`nas._timing_env.apply_timing_env`);
``nas profile --device cpu`` also sets OpenMP's threads spinning, as the timing workers run.
"""

from __future__ import annotations

import os
import sys

import typer

from nas._allocator import keep_freed_memory
from nas._timing_env import apply_timing_env
from nas.cli._build import build_cmd
from nas.cli._cost import cost_cmd
from nas.cli._export import export_cmd
from nas.cli._profile import profile_cmd
from nas.cli._report import report_cmd
from nas.cli._retrain import retrain_cmd
from nas.cli._search import search_cmd
from nas.cli._space import space_app
from nas.cli._train import train_cmd
from nas.errors import NasError

__all__ = ["app", "main"]

app = typer.Typer(
    name="nas",
    help="Hardware-aware architecture search for efficient segmentation transformers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(space_app, name="space")
app.command("search")(search_cmd)
app.command("build")(build_cmd)
app.command("cost")(cost_cmd)
app.command("train")(train_cmd)
app.command("retrain")(retrain_cmd)
app.command("profile")(profile_cmd)
app.command("report")(report_cmd)
app.command("export")(export_cmd)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nas`` console script; returns the exit code."""
    apply_timing_env(spin=False)  # before torch loads: huge pages for big tensors
    keep_freed_memory()  # nas processes train and time models: see nas._allocator
    try:
        if os.environ.get("NAS_DATA_CACHE"):
            from nas.data import set_disk_cache

            set_disk_cache(os.environ["NAS_DATA_CACHE"])
        rv = app(args=argv, standalone_mode=False)
    except NasError as exc:
        return _error(str(exc))
    except OSError as exc:  # file system: the path and the fix
        return _error(_os_message(exc))
    except (typer.Abort, KeyboardInterrupt):
        print("nas: aborted", file=sys.stderr)
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except typer.exceptions.TyperException as exc:  # the parser's usage errors
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
            typer.echo(ctx.get_help(), err=True)  # a bare group: show its help
            return 2
        cmd = ctx.command_path if ctx is not None else "nas"
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        return _error(f"{_first_line(message)} (see '{cmd} --help')", getattr(exc, "exit_code", 2))
    except Exception as exc:  # storage (SQLAlchemy, Optuna), data libraries, or a bug
        storage = _storage_message(exc)
        if storage is not None:
            return _error(storage)
        if os.environ.get("NAS_TRACEBACK"):
            raise
        return _error(f"internal error: {type(exc).__name__}: {_first_line(exc)} (a bug of nas: "
                      "rerun with NAS_TRACEBACK=1 for the traceback and report it)", 1)
    return rv if isinstance(rv, int) else 0


def _error(message: str, code: int = 2) -> int:
    print(f"nas: error: {_first_line(message)}", file=sys.stderr)
    return code


def _first_line(value: object) -> str:
    lines = [ln.strip() for ln in str(value).splitlines() if ln.strip()]
    return " ".join(lines[:1]) or type(value).__name__


def _os_message(exc: OSError) -> str:
    path = exc.filename if exc.filename is not None else ""
    what = exc.strerror or _first_line(exc)
    if isinstance(exc, PermissionError) or exc.errno in (1, 13, 30):  # EPERM, EACCES, EROFS
        fix = "choose a folder you can write to (e.g. --out results/NAME) or fix its permissions"
    elif isinstance(exc, (FileNotFoundError, NotADirectoryError)):
        fix = ("check the path: its parent folders must exist and be folders you can write to "
               "(e.g. --out results/NAME)")
    elif exc.errno == 28:  # ENOSPC
        fix = "free some disk space or choose a folder on another disk"
    else:
        fix = "check the path, its permissions and the disk"
    return f"{path}: {what}; {fix}" if path else f"{what}; {fix}"


def _storage_message(exc: Exception) -> str | None:
    """One line for a storage error (SQLAlchemy, SQLite, Optuna's storages), else None."""
    import sqlite3

    kinds = [type(e) for e in (exc, exc.__cause__, exc.__context__) if e is not None]
    names = {f"{k.__module__}.{k.__name__}" for k in kinds}
    if not (any(n.startswith(("sqlalchemy.", "optuna.storages")) for n in names)
            or any(issubclass(k, sqlite3.Error) for k in kinds)):
        return None
    detail = _first_line(getattr(exc, "orig", None) or exc)  # the driver's message, not the SQL
    return (f"the study storage cannot be used ({type(exc).__name__}: {detail}); check "
            "--storage, or move the run folder's study.db aside and rerun to start afresh")


if __name__ == "__main__":
    sys.exit(main())
