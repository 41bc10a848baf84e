"""The ``ivrnav`` command line: validate, schema, route, graph, run (and the LiveKit commands)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.table import Table

from ivrnav.cli_inputs import Finite, InputFileError, load_secrets, var_values
from ivrnav.files import check_output, write_text
from ivrnav.menu.compiler import Compiled, compile_file, schema
from ivrnav.menu.diagnostics import MenuFileError
from ivrnav.menu.loader import UNREADABLE
from ivrnav.menu.model import MenuFile

# soft_wrap: one diagnostic or timeline line per line whatever the terminal (rich wraps at 80 columns when
# piped, which splits a `file:line:col: message` over lines and breaks editor and CI matchers).
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

# Exit status (README "Exit status"): 0 goal reached / files ok, 1 goal not reached / menu file errors,
# 2 usage error (bad option, missing setting or extra), 3 warnings under `validate --strict`, 130 Ctrl-C.
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_WARN, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


def _load(path: str) -> Compiled:
    try:
        return compile_file(path)
    except MenuFileError as exc:
        for d in exc.diagnostics:
            style = "red" if d.is_error else "yellow"
            err_console.print(f"[{style}]{_escape(str(d))}[/]")
        if any(d.code == UNREADABLE for d in exc.diagnostics):
            raise SystemExit(EXIT_USAGE) from None  # a FIFO, a device, no such file: the argument is wrong
        n = len(exc.errors)
        err_console.print(f"[red]{path}: {n} error{'s' if n != 1 else ''}[/]")
        raise SystemExit(EXIT_FAIL) from None


def _escape(text: str) -> str:
    return text.replace("[", "\\[")


def parse_vars(menu_file: MenuFile, pairs: tuple[str, ...], secrets_file: str | None) -> dict[str, str]:
    """Values for the file's vars: ``--secrets FILE`` < environment ``IVRNAV_VAR_<NAME>`` < ``--var``."""
    try:
        secrets = load_secrets(secrets_file) if secrets_file else {}
    except InputFileError as exc:
        _usage(exc.message)
    values, problem = var_values(menu_file.vars, pairs, secrets)
    if problem:
        _usage(f"{problem} ({menu_file.path})" if problem.startswith("unknown") else problem)
    return values


def _require_extras(feature: str, *extras: str) -> None:
    """A usage error naming the pip extra when an optional part is not installed (the core has no LiveKit)."""
    from ivrnav.extras import MissingExtra, require

    try:
        require(feature, *extras)
    except MissingExtra as exc:
        _usage(str(exc))


def _usage(message: str) -> NoReturn:
    err_console.print(f"[red]error:[/] {_escape(message)}")
    raise SystemExit(EXIT_USAGE)


class _Main(click.Group):
    """Ctrl-C exits 130 (the shell's convention for SIGINT), not click's 1, which means "not reached"."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            err_console.print("interrupted")
            raise SystemExit(EXIT_INTERRUPTED) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ivrnav")
def main() -> None:
    """ivrnav: navigate phone IVRs from declarative menu files.

    Exit status: 0 reached / ok, 1 not reached / menu file errors, 2 usage error, 3 warnings with
    `validate --strict`, 130 interrupted.
    """


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--strict", is_flag=True, help="Exit 3 when there are warnings (and no errors).")
def validate(files: tuple[str, ...], strict: bool) -> None:
    """Check menu files: exit 0 ok, 1 errors, 2 a file that cannot be read, 3 warnings with --strict."""
    worst = EXIT_OK
    for path in files:
        try:
            compiled = compile_file(path)
        except MenuFileError as exc:
            for d in exc.diagnostics:
                err_console.print(f"[{'red' if d.is_error else 'yellow'}]{_escape(str(d))}[/]")
            unreadable = any(d.code == UNREADABLE for d in exc.diagnostics)  # the argument, not its contents
            worst = _worse(worst, EXIT_USAGE if unreadable else EXIT_FAIL)
            continue
        for d in compiled.warnings:
            err_console.print(f"[yellow]{_escape(str(d))}[/]")
        if compiled.warnings and strict:
            worst = _worse(worst, EXIT_WARN)
        mf = compiled.menu_file
        note = f", {len(compiled.warnings)} warning(s)" if compiled.warnings else ""
        console.print(f"[green]ok[/] {path}: {mf.name}, {len(mf.menus)} menus{note}")
    raise SystemExit(worst)


def _worse(a: int, b: int) -> int:
    """Of two exit codes for several files, the one that says more is wrong: usage > errors > warnings > ok."""
    rank = {EXIT_OK: 0, EXIT_WARN: 1, EXIT_FAIL: 2, EXIT_USAGE: 3}
    return a if rank[a] >= rank[b] else b


@main.command(name="schema")
@click.option("-o", "--output", type=click.Path(dir_okay=False),
              help="Write the schema to this file (e.g. beside your menus) instead of printing it.")
def schema_command(output: str | None) -> None:
    """Print (or write) the JSON Schema of menu files, for yaml-language-server and other editors.

    An installed ivrnav has no source tree to point a modeline at: write the schema beside your menus
    (`ivrnav schema -o menus/ivrnav.schema.json`) and start each menu file with
    `# yaml-language-server: $schema=ivrnav.schema.json` (a path relative to the menu file).
    """
    text = json.dumps(schema(), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    target = Path(output)
    try:
        target.write_text(text, "utf-8")
    except OSError as exc:
        _usage(f"cannot write {output}: {exc.strerror or type(exc).__name__}")
    click.echo(f"wrote {output}; start each menu file beside it with: "
               f"# yaml-language-server: $schema={target.name}", err=True)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--goal", help="Goal menu (default: the file's goal).")
@click.option("--from", "start", help="Plan from this menu instead of the start menu.")
@click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE")
@click.option("--secrets", "secrets_file", type=click.Path(dir_okay=False), help="YAML file of var values.")
def route(file: str, goal: str | None, start: str | None, var_pairs: tuple[str, ...], secrets_file: str | None) -> None:
    """Print the planned path to a goal; secret values are masked."""
    from ivrnav.menu import template
    from ivrnav.navigate.plan import NoRoute, plan

    mf = _load(file).menu_file
    goal = goal or mf.goal
    if goal is None:
        _usage(f"{file} has no default goal; pass --goal MENU")
    for name, what in ((goal, "goal"), (start, "--from")):
        if name is not None and name not in mf.menus:
            _usage(f"{what} {name!r} is not a menu of {file}; menus: {', '.join(mf.menus)}")
    values = {k: v.default for k, v in mf.vars.items() if v.default is not None}
    values.update(parse_vars(mf, var_pairs, secrets_file))
    try:
        r = plan(mf, start or mf.start, goal)
    except NoRoute as exc:
        err_console.print(f"[red]error:[/] {exc}")
        raise SystemExit(EXIT_FAIL) from None
    table = Table(title=f"{mf.name}: {r.steps[0].menu if r.steps else goal} → {goal}  (~{r.cost:.0f} s)")
    for column in ("#", "menu", "action", "next menu"):
        table.add_column(column)
    for i, step in enumerate(r.steps, 1):
        e = step.exit
        if e.kind == "option":
            label = f" ({e.option.says[0]})" if e.option and e.option.says else ""
            action = f"press {e.keys}{label}"
        elif e.kind == "enter":
            try:
                _, masked = template.render(e.keys, values, mf.secret_vars, digits=True)
            except KeyError as missing:
                masked = f"{e.keys}  (needs --var {missing.args[0]}=...)"
            action = f"enter {masked}"
        elif e.kind == "say":
            action = f"say {mf.menus[step.menu].say!r}"
        else:
            action = "wait (hold)" if mf.menus[step.menu].hold else "wait"
        table.add_row(str(i), step.menu, _escape(action), e.to)
    console.print(table)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Output file: .svg, .png, .pdf (need Graphviz's dot), .dot or .mmd (Mermaid).")
@click.option("--goal", help="Highlight the route to this menu (default: the file's goal).")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False),
              help="Draw the path a call took, from its `ivrnav run --trace` file (drift edges dashed).")
def graph(file: str, output: str, goal: str | None, trace_path: str | None) -> None:
    """Draw the menu tree with the goal and its route highlighted (and a call's path, with --trace)."""
    from ivrnav.graph import GraphError, read_trace, write

    mf = _load(file).menu_file
    goal = goal or mf.goal
    if goal is not None and goal not in mf.menus:
        _usage(f"goal {goal!r} is not a menu of {file}")
    try:
        taken = read_trace(Path(trace_path)) if trace_path else ()
        path = write(mf, Path(output), goal, taken)
    except GraphError as exc:
        _usage(str(exc))
    console.print(f"wrote {path}")


def _livekit_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """--url/--api-key/--api-secret, from LIVEKIT_URL/LIVEKIT_API_KEY/LIVEKIT_API_SECRET by default."""
    f = click.option("--api-secret", envvar="LIVEKIT_API_SECRET", show_envvar=True,
                     help="LiveKit API secret.")(f)
    f = click.option("--api-key", envvar="LIVEKIT_API_KEY", show_envvar=True, help="LiveKit API key.")(f)
    return click.option("--url", "livekit_url", envvar="LIVEKIT_URL", show_envvar=True,
                        help="LiveKit server URL (wss://<project>.livekit.cloud or ws://host:7880).")(f)


def _livekit_env(url: str | None, api_key: str | None, api_secret: str | None) -> dict[str, str]:
    """The environment the LiveKit adapters read, with the options (or their env vars) filled in."""
    env = dict(os.environ)
    for name, value in (("LIVEKIT_URL", url), ("LIVEKIT_API_KEY", api_key), ("LIVEKIT_API_SECRET", api_secret)):
        if value:
            env[name] = value
    return env


# `run` options that only mean something on one kind of line: (option, needs, why) as data, checked before any
# work so a flag is never silently ignored.
_RUN_EXCLUSIVE: tuple[tuple[str, str, str], ...] = (
    ("line_path", "simulated", "--line plays another menu file as the simulated line"),
    ("wer", "simulated", "--wer simulates recognition errors on the simulated line"),
    ("seed", "simulated", "--seed seeds the simulated line's noise"),
    ("realtime", "simulated", "--realtime paces the simulated call"),
    ("speed", "realtime", "--speed is the --realtime speed-up"),
    ("trace_path", "local", "--trace records a local call's events (a LiveKit call's worker holds them)"),
    ("audio", "simulated", "--audio runs the simulated line through offline speech"),
    ("trunk", "livekit", "--trunk is the SIP trunk of a --livekit call"),
    ("agent_name", "livekit", "--agent-name is the worker a --livekit call dispatches"),
)


def _check_run_flags(ctx: click.Context, livekit: bool, audio: bool, realtime: bool) -> None:
    given = {name for name in ctx.params if ctx.get_parameter_source(name) in
             (click.core.ParameterSource.COMMANDLINE,)}
    for name, needs, why in _RUN_EXCLUSIVE:
        if name not in given:
            continue
        if needs in {"simulated", "local"} and livekit:
            _usage(f"{why}; it cannot apply with --livekit (a real call)")
        if needs == "livekit" and not livekit:
            _usage(f"{why}; add --livekit or drop it")
        if needs == "realtime" and not realtime:
            _usage(f"{why}; add --realtime or drop it")
    if audio and realtime:
        _usage("--audio runs on a virtual clock; it cannot be combined with --realtime")
    if audio and "wer" in given:
        _usage("--wer cannot apply with --audio: recognition errors come from the real STT")


_NOTE_STYLE = {"heard": "cyan", "menu": "bold", "press": "bold green", "say": "bold green", "wait": "yellow",
               "retry": "yellow", "drift": "magenta", "done": "bold"}


def _timeline_printer(enabled: bool) -> Callable[[Any], None] | None:
    if not enabled:
        return None

    def show(note: Any) -> None:
        label = {"heard": "line", "menu": "menu", "press": "keys", "say": "say"}.get(note.kind, note.kind)
        style = _NOTE_STYLE.get(note.kind, "default")
        text = f"“{note.text}”" if note.kind == "heard" else note.text
        console.print(f"[dim]{note.at:7.2f}s[/] [{style}]{label:>5}[/]  {_escape(text)}")

    return show


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--goal", help="Goal menu (default: the file's goal).")
@click.option("--line", "line_path", type=click.Path(dir_okay=False),
              help="Play another menu file as the line (a changed IVR).")
@click.option("--wer", type=Finite(0, 1), default=0.0, show_default=True,
              help="Word error rate of simulated speech recognition.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the simulated noise.")
@click.option("--realtime", is_flag=True, help="Pace the simulated call to the wall clock.")
@click.option("--speed", type=Finite(0.1, 100), default=1.0, help="With --realtime: speed-up factor.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (no timeline).")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False), help="Write a JSON-lines trace here.")
@click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE", help="A var's value (repeatable).")
@click.option("--secrets", "secrets_file", type=click.Path(dir_okay=False), help="YAML file of var values.")
@click.option("--audio", is_flag=True, help="Simulate through audio: offline TTS -> STT, in-band DTMF.")
@click.option("--livekit", is_flag=True, help="Call for real through LiveKit (LIVEKIT_URL/API_KEY/API_SECRET).")
@click.option("--trunk", envvar="LIVEKIT_SIP_TRUNK_ID", show_envvar=True,
              help="With --livekit: SIP outbound trunk id.")
@click.option("--agent-name", envvar="LIVEKIT_AGENT_NAME", show_envvar=True,
              help="With --livekit: the worker's agent name [default: ivrnav].")
@_livekit_options
@click.pass_context
def run(ctx: click.Context, file: str, goal: str | None, line_path: str | None, wer: float, seed: int,
        realtime: bool, speed: float, as_json: bool, trace_path: str | None, var_pairs: tuple[str, ...],
        secrets_file: str | None, audio: bool, livekit: bool, trunk: str | None, agent_name: str | None,
        livekit_url: str | None, api_key: str | None, api_secret: str | None) -> None:
    """Navigate FILE's line to a goal. Without LiveKit settings, the simulated line of the same file."""
    _check_run_flags(ctx, livekit, audio, realtime)
    mf = _load(file).menu_file
    goal = goal or mf.goal
    if goal is None:
        _usage(f"{file} has no default goal; pass --goal MENU")
    if goal not in mf.menus:
        _usage(f"goal {goal!r} is not a menu of {file}; menus: {', '.join(mf.menus)}")
    values = parse_vars(mf, var_pairs, secrets_file)
    if trace_path:  # before the call: a trace that cannot be written must not cost a call
        try:
            check_output(trace_path, what="trace")
        except InputFileError as exc:
            _usage(exc.message)
    if livekit:
        _require_extras("--livekit", "livekit")
        from ivrnav.livekit.dial import run_livekit_call

        raise SystemExit(run_livekit_call(mf, goal, values, trunk=trunk, as_json=as_json,
                                          environ=_livekit_env(livekit_url, api_key, api_secret),
                                          **({"agent_name": agent_name} if agent_name else {})))
    line_file = _load(line_path).menu_file if line_path else None
    printer = _timeline_printer(not as_json)

    def announce() -> None:  # the header says the call is under way
        if not as_json:
            where = f"simulated line of {line_path or file}"
            console.print(f"[bold]{mf.name}[/]: navigating to [bold]{goal}[/] on the {where}"
                          + (f" (WER {wer:.0%}, seed {seed})" if wer else ""))

    if not realtime or audio:
        announce()
    if audio:
        _require_extras("--audio", "speech")
        from ivrnav.speech.audio_call import simulate_audio_call
        from ivrnav.speech.models import SpeechModelMissing

        def audio_printer(note: Any) -> None:  # the line's DTMF detections join the navigator's timeline
            if note.kind == "dtmf":
                console.print(f"[dim]{note.at:7.2f}s[/] [blue] dtmf[/]  {_escape(note.text)}")
            elif printer is not None:
                printer(note)

        try:
            call = simulate_audio_call(mf, line_file=line_file, goal=goal, vars=values, seed=seed,
                                       on_note=audio_printer if printer else None)
        except (SpeechModelMissing, ImportError) as exc:  # the speech extra or its models are not installed
            _usage(f"--audio needs the offline speech models: {exc}")
        (err_console if as_json else console).print(f"[dim]{_escape(call.stats.summary())}[/]")
    elif realtime:
        from ivrnav.sim.runner import simulate_call_realtime

        async def realtime_call() -> Any:
            # The header is printed from inside the running loop: a Ctrl-C after it reaches asyncio.run's
            # own SIGINT handling (cancel, then KeyboardInterrupt), never a loop half built.
            announce()
            return await simulate_call_realtime(mf, speed=speed, line_file=line_file, goal=goal, vars=values,
                                                wer=wer, seed=seed, on_note=printer)

        call = asyncio.run(realtime_call())
    else:
        from ivrnav.sim.runner import simulate_call

        call = simulate_call(mf, line_file=line_file, goal=goal, vars=values, wer=wer, seed=seed, on_note=printer)
    result = call.result
    if trace_path:
        from ivrnav.navigate.result import strict_json

        lines = [strict_json(record) for record in call.trace] + [strict_json({"kind": "result", **result.to_dict()})]
        try:
            write_text(trace_path, "\n".join(lines) + "\n", what="trace")
        except InputFileError as exc:
            _usage(exc.message)
    if as_json:
        click.echo(result.to_json(indent=2))
    else:
        _print_verdict(result)
    raise SystemExit(EXIT_OK if result.reached else EXIT_FAIL)


def _print_verdict(result: Any) -> None:
    t = result.timing
    if result.drift:
        console.print(f"[magenta]drift:[/] {len(result.drift)} finding(s): "
                      + "; ".join(_escape(f"{d.kind} at {d.menu or '?'}: {d.detail}") for d in result.drift))
    if result.unrecognised:
        console.print(f"[magenta]unrecognised prompts:[/] {len(result.unrecognised)}")
    if result.reached:
        console.print(f"[bold green]REACHED[/] {result.goal} in {t.time_to_goal:.1f}s "
                      f"({t.keys_sent} keys, {t.retries} retries; keys sent: {_escape(result.digits) or 'none'})")
    else:
        console.print(f"[bold red]FAILED[/] ({result.reason}) {_escape(result.detail)} after "
                      f"{t.ended_at - t.started_at:.1f}s")


@main.command()
@click.option("--stt", type=click.Choice(["deepgram", "offline"]), default="deepgram", show_default=True,
              envvar="IVRNAV_STT", show_envvar=True,
              help="Speech-to-text: Deepgram nova-3 (DEEPGRAM_API_KEY) or offline Whisper.")
@click.option("--secrets", "secrets_file", type=click.Path(dir_okay=False), envvar="IVRNAV_SECRETS",
              show_envvar=True, help="YAML file of secret var values (also IVRNAV_VAR_<NAME> in the environment).")
@click.option("--agent-name", default="ivrnav", show_default=True, envvar="LIVEKIT_AGENT_NAME", show_envvar=True,
              help="Agent name for explicit dispatch.")
@click.option("--load-threshold", type=Finite(0, 1, low_open=True), envvar="IVRNAV_LOAD_THRESHOLD", show_envvar=True,
              help="CPU load above which the worker takes no new jobs (default 0.7 with Deepgram, none offline).")
@click.option("--host", default="", envvar="IVRNAV_HOST", show_envvar=True,
              help="Interface of the health and metrics servers [default: all].")
@click.option("--port", type=click.IntRange(0, 65535), default=8081, show_default=True, envvar="IVRNAV_PORT",
              show_envvar=True, help="Health-check port (GET / and /worker), the framework's production default.")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=9464, show_default=True,
              envvar="IVRNAV_METRICS_PORT", show_envvar=True, help="Prometheus /metrics port.")
@click.option("--log-level", default="INFO", show_default=True, envvar="LIVEKIT_LOG_LEVEL", show_envvar=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="JSON log level (the line's words are logged at DEBUG only).")
@_livekit_options
def worker(stt: str, secrets_file: str | None, agent_name: str, load_threshold: float | None, host: str, port: int,
           metrics_port: int, log_level: str, livekit_url: str | None, api_key: str | None,
           api_secret: str | None) -> None:
    """Run a LiveKit worker that navigates menus for dispatched jobs (LIVEKIT_URL/API_KEY/API_SECRET)."""

    _require_extras("ivrnav worker", "livekit", "deepgram" if stt == "deepgram" else "speech")
    from ivrnav.livekit.dial import DialError, livekit_settings
    from ivrnav.livekit.worker import WorkerConfig, build_server

    try:
        settings = livekit_settings(_livekit_env(livekit_url, api_key, api_secret))
    except DialError as exc:
        _usage(str(exc))
    if stt == "deepgram" and not os.environ.get("DEEPGRAM_API_KEY"):
        _usage("DEEPGRAM_API_KEY is not set (or use --stt offline)")
    secrets: dict[str, str] = {}
    if secrets_file:
        try:
            secrets = load_secrets(secrets_file)
        except InputFileError as exc:
            _usage(exc.message)
    from livekit.agents.cli.log import setup_logging

    # The framework's production logging: JSON lines on stdout, its PII-marked fields (lk.pii.*) included.
    setup_logging(log_level.upper(), devmode=False, console=False)
    server = build_server(WorkerConfig(stt=stt, secrets=secrets, agent_name=agent_name),  # type: ignore[arg-type]
                          ws_url=settings.url, api_key=settings.api_key, api_secret=settings.api_secret,
                          load_threshold=load_threshold, host=host, port=port, metrics_port=metrics_port)
    err_console.print(f"worker {agent_name!r} ({stt} STT) serving {_escape(settings.url)}; health "
                      f"{host or '*'}:{port}, metrics {host or '*'}:{metrics_port}/metrics; Ctrl-C to stop")

    async def serve() -> None:
        try:
            await server.run()
        finally:
            await server.aclose()

    asyncio.run(serve())


@main.command(name="line")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--livekit", is_flag=True, required=True, help="Join a LiveKit room (LIVEKIT_URL/API_KEY/API_SECRET).")
@click.option("--room", required=True, help="Room to join.")
@click.option("--identity", default="ivr-line", show_default=True, help="Participant identity of the line.")
@click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE", help="A var's value the line expects.")
@_livekit_options
def line_command(file: str, livekit: bool, room: str, identity: str, var_pairs: tuple[str, ...],
                 livekit_url: str | None, api_key: str | None, api_secret: str | None) -> None:
    """Play FILE as a simulated IVR in a LiveKit room: prompts as speech (offline TTS), keys by DTMF."""
    _require_extras("ivrnav line --livekit", "livekit", "speech")
    from livekit import api, rtc

    from ivrnav.livekit.dial import DialError, livekit_settings
    from ivrnav.livekit.line_participant import LineParticipant
    from ivrnav.speech.models import SpeechModelMissing

    if not livekit:
        _usage("ivrnav line needs --livekit (the simulated line without LiveKit is `ivrnav run`)")
    mf = _load(file).menu_file
    values = parse_vars(mf, var_pairs, None)
    try:
        settings = livekit_settings(_livekit_env(livekit_url, api_key, api_secret))
    except DialError as exc:
        _usage(str(exc))
    token = (api.AccessToken(settings.api_key, settings.api_secret).with_identity(identity).with_name(mf.name)
             .with_grants(api.VideoGrants(room_join=True, room=room)).to_jwt())

    def show(kind: str, text: str) -> None:
        console.print(f"[dim]{kind:>5}[/]  {_escape(text)}")

    participant = LineParticipant(mf, url=settings.url, token=token, vars=values or None, on_event=show)
    console.print(f"[bold]{mf.name}[/]: joining room {room!r} as {identity!r}; waiting for a caller")
    try:
        report = asyncio.run(participant.run())
    except SpeechModelMissing as exc:
        _usage(f"offline TTS is not available: {exc}")
    except rtc.ConnectError as exc:
        _usage(f"cannot join {settings.url}: {exc.message}")
    except TimeoutError as exc:
        _usage(str(exc) or "timed out")
    console.print(f"call over ({report.ended}); keys received: {' '.join(k.digit for k in report.keys) or 'none'}")


@main.command(name="call-local")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--goal", help="Goal menu (default: the file's goal).")
@click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE", help="A var's value (default: the line's).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (no timeline).")
def call_local(file: str, goal: str | None, var_pairs: tuple[str, ...], as_json: bool) -> None:
    """A real phone call on this machine, no phone number needed: livekit-sip on 127.0.0.1 carries it
    (SIP/RTP, RFC 4733 keys) from the navigator to FILE's simulated IVR. Needs scripts/install-livekit-*."""
    from ivrnav.livekit.localcall import run_local_call

    mf = _load(file).menu_file
    goal = goal or mf.goal
    if goal is None or goal not in mf.menus:
        _usage(f"pass --goal MENU, one of: {', '.join(mf.menus)}")
    raise SystemExit(run_local_call(mf, goal, parse_vars(mf, var_pairs, None), as_json=as_json))


def _register_discovery() -> None:
    from ivrnav.discover.commands import discover, fix

    main.add_command(discover)
    main.add_command(fix)


_register_discovery()
