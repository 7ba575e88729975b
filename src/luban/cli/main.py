"""Entry point of the `luban` command: mounts the command groups and turns errors into one line.

Exit codes: 0 ok, 1 the work failed, 2 bad usage or input, 130 interrupted.
"""

from __future__ import annotations

import os
import signal
import sys

import click
import typer
from rich.markup import escape

from luban import __version__
from luban.cli import access, audit, config_cmd, models, security, workspace
from luban.cli.context import err_console, state
from luban.core.errors import LubanError

app = typer.Typer(
    name="luban",
    help="Luban: from raw enterprise data to your own guarded LLM behind an OpenAI-compatible API.\n\n"
         "Start with `luban demo`; see `luban COMMAND --help` for examples.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"luban {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    workspace_path: str = typer.Option(None, "--workspace", "-w", envvar="LUBAN_WORKSPACE",
                                       help="workspace folder (default ./luban-ws)"),
    db_url: str = typer.Option(None, "--db-url", envvar="LUBAN_DB_URL",
                               help="SQLAlchemy URL of the metadata index (default: SQLite in the workspace)"),
    debug: bool = typer.Option(False, "--debug", help="show tracebacks"),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="print the version"),
) -> None:
    if state._ws is not None:
        state._ws.close()
    state._ws = None
    state.workspace_path = workspace_path
    state.db_url = db_url
    state.debug = debug or bool(os.environ.get("LUBAN_DEBUG"))


app.command("ls")(workspace.ls)
app.command("show")(workspace.show)
app.command("lineage")(workspace.lineage_cmd)
app.command("rm")(workspace.rm)
app.command("gc")(workspace.gc)
app.add_typer(config_cmd.app, name="config")
app.add_typer(models.app, name="models")
models.app.command("encrypt")(security.encrypt_model)
app.add_typer(audit.app, name="audit")
app.add_typer(security.app, name="security")


def _mount_layers() -> None:
    """Command groups of the layers; each module is thin and imports its layer lazily."""
    from luban.cli import data, demo, export, run, serve, train

    app.add_typer(data.app, name="data")
    data.app.command("encrypt")(security.encrypt_dataset)
    app.command("train", context_settings={"allow_extra_args": False})(train.train)
    app.add_typer(export.app, name="export")
    app.command("serve")(serve.serve_command)
    app.command("engine")(serve.engine_command)
    app.command("run")(run.run)
    app.command("demo")(demo.demo)
    from luban.cli import gateway as gateway_cli
    from luban.cli import keys as keys_cli

    app.command("gateway")(gateway_cli.gateway_command)
    app.add_typer(keys_cli.app, name="keys")
    from luban.cli import prompts as prompts_cli  # gateway management: prompt templates

    app.add_typer(prompts_cli.app, name="prompts")
    from luban.cli import eval as eval_cli

    app.add_typer(eval_cli.app, name="eval")
    from luban.cli import compliance as compliance_cli

    app.add_typer(compliance_cli.app, name="compliance")
    from luban.cli import deploy as deploy_cli

    app.add_typer(deploy_cli.app, name="deploy")
    from luban.cli import usage as usage_cli

    app.command("usage")(usage_cli.usage_command)
    from luban.cli import guard as guard_cli

    app.add_typer(guard_cli.app, name="guard")
    from luban.cli import compress as compress_cli

    app.add_typer(compress_cli.app, name="compress")


_mount_layers()


def _quiet_libraries() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DATASETS_VERBOSITY", "error")
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")  # our own bars replace theirs


INTERRUPTED = "[yellow]interrupted[/yellow]: nothing half-written was kept"
# recent typer (0.29 here) carries its own copy of click: its usage errors derive from
# typer.TyperException, not click.ClickException; older typer raises click's own
CLICK_ERRORS: tuple[type[Exception], ...] = (click.ClickException,
                                             getattr(typer, "TyperException", click.ClickException))


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    _quiet_libraries()
    if not os.environ.get("LUBAN_DEBUG") and "--debug" not in (argv if argv is not None else sys.argv):
        import warnings

        # library deprecation chatter is for us, not for users; --debug shows it
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
    from luban.cli.progress_view import RichReporter
    from luban.core import progress

    progress.set_reporter(RichReporter())
    signal.signal(signal.SIGTERM, _terminate)  # `kill` cleans up like Ctrl-C: no half-written artifact
    command = typer.main.get_command(app)
    try:
        access.check(command, list(argv if argv is not None else sys.argv[1:]))  # roles, with LUBAN_API_KEY
        rc = command.main(args=argv if argv is not None else sys.argv[1:], prog_name="luban", standalone_mode=False)
        if rc == 130:  # typer turns Ctrl-C into a returned 130
            err_console.print(INTERRUPTED)
        sys.exit(rc if isinstance(rc, int) else 0)
    except LubanError as e:
        if state.debug:
            err_console.print_exception()
        err_console.print(f"[bold red]error:[/bold red] {escape(str(e))}", soft_wrap=True)
        sys.exit(e.exit_code)
    except (click.exceptions.Abort, typer.Abort, KeyboardInterrupt):
        err_console.print(INTERRUPTED)
        sys.exit(130)
    except (click.exceptions.Exit, typer.Exit) as e:
        sys.exit(e.exit_code)
    except CLICK_ERRORS as e:
        ctx = getattr(e, "ctx", None)  # usage errors know their command
        ctx_help = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
        message = escape(e.format_message() + ctx_help)  # type: ignore[attr-defined]
        err_console.print(f"[bold red]error:[/bold red] {message}", soft_wrap=True)
        sys.exit(e.exit_code)  # type: ignore[attr-defined]
    except Exception as e:  # noqa: BLE001 - the last line of defence prints one line, not a traceback
        if state.debug:
            err_console.print_exception()
        else:
            err_console.print(f"[bold red]error:[/bold red] {type(e).__name__}: {escape(str(e))} "
                              "(run with --debug for the traceback)", soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
