"""The ``nas`` command line. It only parses arguments and calls typed library functions.

Bad input (a :class:`~nas.errors.NasError`, or a usage error) becomes one line on stderr and
exit code 2, never a traceback.
"""

from __future__ import annotations

import sys

import typer

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
    try:
        rv = app(args=argv, standalone_mode=False)
    except NasError as exc:
        print(f"nas: error: {exc}", file=sys.stderr)
        return 2
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
        print(f"nas: error: {message} (see '{cmd} --help')", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    return rv if isinstance(rv, int) else 0


if __name__ == "__main__":
    sys.exit(main())
