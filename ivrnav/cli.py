"""The ``ivrnav`` command line: validate, schema, route, graph, run (and the LiveKit commands)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
import yaml
from rich.console import Console
from rich.table import Table

from ivrnav.menu.compiler import Compiled, compile_file, schema
from ivrnav.menu.diagnostics import MenuFileError
from ivrnav.menu.model import MenuFile

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

EXIT_OK, EXIT_FAIL, EXIT_WARN, EXIT_USAGE = 0, 1, 2, 2


def _load(path: str) -> Compiled:
    try:
        return compile_file(path)
    except MenuFileError as exc:
        for d in exc.diagnostics:
            style = "red" if d.is_error else "yellow"
            err_console.print(f"[{style}]{_escape(str(d))}[/]")
        n = len(exc.errors)
        err_console.print(f"[red]{path}: {n} error{'s' if n != 1 else ''}[/]")
        raise SystemExit(EXIT_FAIL) from None


def _escape(text: str) -> str:
    return text.replace("[", "\\[")


def parse_vars(menu_file: MenuFile, pairs: tuple[str, ...], secrets_file: str | None) -> dict[str, str]:
    """Values for the file's vars: ``--secrets FILE`` < environment ``IVRNAV_VAR_<NAME>`` < ``--var``."""
    values: dict[str, str] = {}
    if secrets_file:
        try:
            data = yaml.safe_load(Path(secrets_file).read_text("utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            _usage(f"cannot read secrets file {secrets_file}: {type(exc).__name__}")
        if not isinstance(data, dict):
            _usage(f"secrets file {secrets_file} must map var names to values")
        values.update({str(k): str(v) for k, v in data.items()})
    for name in menu_file.vars:
        env = os.environ.get(f"IVRNAV_VAR_{name.upper()}")
        if env is not None:
            values[name] = env
    for pair in pairs:
        if "=" not in pair:
            _usage(f"--var takes NAME=VALUE, got {pair.split('=')[0]!r}")
        name, value = pair.split("=", 1)
        values[name.strip()] = value
    unknown = sorted(set(values) - set(menu_file.vars))
    if unknown:
        _usage(f"unknown var(s) {', '.join(unknown)}; {menu_file.path} declares: {', '.join(menu_file.vars) or 'none'}")
    for name, value in values.items():
        var = menu_file.vars[name]
        if var.pattern and not __import__("re").fullmatch(var.pattern, value):
            # never echo the value: it may be a secret
            _usage(f"value of --var {name} does not match its pattern {var.pattern!r}")
    return values


def _usage(message: str) -> NoReturn:
    err_console.print(f"[red]error:[/] {_escape(message)}")
    raise SystemExit(EXIT_USAGE)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ivrnav")
def main() -> None:
    """ivrnav: navigate phone IVRs from declarative menu files."""


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--strict", is_flag=True, help="Exit 2 when there are warnings.")
def validate(files: tuple[str, ...], strict: bool) -> None:
    """Check menu files: exit 0 ok, 1 errors, 2 warnings with --strict."""
    worst = EXIT_OK
    for path in files:
        try:
            compiled = compile_file(path)
        except MenuFileError as exc:
            for d in exc.diagnostics:
                err_console.print(f"[{'red' if d.is_error else 'yellow'}]{_escape(str(d))}[/]")
            worst = EXIT_FAIL
            continue
        for d in compiled.warnings:
            err_console.print(f"[yellow]{_escape(str(d))}[/]")
        if compiled.warnings and strict and worst == EXIT_OK:
            worst = EXIT_WARN
        mf = compiled.menu_file
        note = f", {len(compiled.warnings)} warning(s)" if compiled.warnings else ""
        console.print(f"[green]ok[/] {path}: {mf.name}, {len(mf.menus)} menus{note}")
    raise SystemExit(worst)


@main.command(name="schema")
def schema_command() -> None:
    """Print the JSON Schema of menu files (for yaml-language-server and other editors)."""
    click.echo(json.dumps(schema(), indent=2))


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
def graph(file: str, output: str, goal: str | None) -> None:
    """Draw the menu tree with the goal and its route highlighted."""
    from ivrnav.graph import GraphError, write

    mf = _load(file).menu_file
    goal = goal or mf.goal
    if goal is not None and goal not in mf.menus:
        _usage(f"goal {goal!r} is not a menu of {file}")
    try:
        path = write(mf, Path(output), goal)
    except GraphError as exc:
        _usage(str(exc))
    console.print(f"wrote {path}")


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
@click.option("--wer", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Word error rate of simulated speech recognition.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for the simulated noise.")
@click.option("--realtime", is_flag=True, help="Pace the simulated call to the wall clock.")
@click.option("--speed", type=click.FloatRange(0.1, 100), default=1.0, help="With --realtime: speed-up factor.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON (no timeline).")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False), help="Write a JSON-lines trace here.")
@click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE", help="A var's value (repeatable).")
@click.option("--secrets", "secrets_file", type=click.Path(dir_okay=False), help="YAML file of var values.")
@click.option("--audio", is_flag=True, help="Simulate through audio: offline TTS -> STT, in-band DTMF.")
@click.option("--livekit", is_flag=True, help="Call for real through LiveKit (LIVEKIT_URL/API_KEY/API_SECRET).")
@click.option("--trunk", help="With --livekit: SIP outbound trunk id (or LIVEKIT_SIP_TRUNK_ID).")
def run(file: str, goal: str | None, line_path: str | None, wer: float, seed: int, realtime: bool, speed: float,
        as_json: bool, trace_path: str | None, var_pairs: tuple[str, ...], secrets_file: str | None, audio: bool,
        livekit: bool, trunk: str | None) -> None:
    """Navigate FILE's line to a goal. Without LiveKit settings, the simulated line of the same file."""
    mf = _load(file).menu_file
    goal = goal or mf.goal
    if goal is None:
        _usage(f"{file} has no default goal; pass --goal MENU")
    if goal not in mf.menus:
        _usage(f"goal {goal!r} is not a menu of {file}; menus: {', '.join(mf.menus)}")
    values = parse_vars(mf, var_pairs, secrets_file)
    if livekit:
        try:
            from ivrnav.livekit.dial import run_livekit_call  # type: ignore[import-not-found]
        except ImportError:
            _usage("--livekit calls are not available in this version yet; run without it to use the simulated line")
        raise SystemExit(run_livekit_call(mf, goal, values, trunk=trunk, as_json=as_json))
    line_file = _load(line_path).menu_file if line_path else None
    printer = _timeline_printer(not as_json)
    if not as_json:
        where = f"simulated line of {line_path or file}"
        console.print(f"[bold]{mf.name}[/]: navigating to [bold]{goal}[/] on the {where}"
                      + (f" (WER {wer:.0%}, seed {seed})" if wer else ""))
    if audio:
        from ivrnav.speech.audio_call import simulate_audio_call
        from ivrnav.speech.models import SpeechModelMissing

        if wer:
            err_console.print("[yellow]--wer is ignored with --audio: recognition errors come from the real STT[/]")

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

        call = asyncio.run(simulate_call_realtime(mf, speed=speed, line_file=line_file, goal=goal, vars=values,
                                                  wer=wer, seed=seed, on_note=printer))
    else:
        from ivrnav.sim.runner import simulate_call

        call = simulate_call(mf, line_file=line_file, goal=goal, vars=values, wer=wer, seed=seed, on_note=printer)
    result = call.result
    if trace_path:
        with open(trace_path, "w", encoding="utf-8") as handle:
            for record in call.trace:
                handle.write(json.dumps(record) + "\n")
            handle.write(json.dumps({"kind": "result", **result.to_dict()}) + "\n")
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
              help="Speech-to-text: Deepgram nova-3 (DEEPGRAM_API_KEY) or offline Whisper.")
@click.option("--secrets", "secrets_file", type=click.Path(dir_okay=False),
              help="YAML file of secret var values (also IVRNAV_VAR_<NAME> in the environment).")
@click.option("--agent-name", default="ivrnav", show_default=True, help="Agent name for explicit dispatch.")
@click.option("--load-threshold", type=float, help="CPU load above which the worker takes no new jobs "
              "(default 0.7 with Deepgram, none offline).")
def worker(stt: str, secrets_file: str | None, agent_name: str, load_threshold: float | None) -> None:
    """Run a LiveKit worker that navigates menus for dispatched jobs (LIVEKIT_URL/API_KEY/API_SECRET)."""
    import logging

    from ivrnav.livekit.dial import DialError, livekit_settings
    from ivrnav.livekit.worker import WorkerConfig, build_server, load_secrets_file

    try:
        settings = livekit_settings()
    except DialError as exc:
        _usage(str(exc))
    if stt == "deepgram" and not os.environ.get("DEEPGRAM_API_KEY"):
        _usage("DEEPGRAM_API_KEY is not set (or use --stt offline)")
    secrets: dict[str, str] = {}
    if secrets_file:
        try:
            secrets = load_secrets_file(secrets_file)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            _usage(f"cannot read secrets file {secrets_file}: {type(exc).__name__}")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    server = build_server(WorkerConfig(stt=stt, secrets=secrets, agent_name=agent_name),  # type: ignore[arg-type]
                          ws_url=settings.url, api_key=settings.api_key, api_secret=settings.api_secret,
                          load_threshold=load_threshold)
    err_console.print(f"worker {agent_name!r} ({stt} STT) serving {_escape(settings.url)}; Ctrl-C to stop")

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
def line_command(file: str, livekit: bool, room: str, identity: str, var_pairs: tuple[str, ...]) -> None:
    """Play FILE as a simulated IVR in a LiveKit room: prompts as speech (offline TTS), keys by DTMF."""
    from livekit import api, rtc

    from ivrnav.livekit.dial import DialError, livekit_settings
    from ivrnav.livekit.line_participant import LineParticipant
    from ivrnav.speech.models import SpeechModelMissing

    if not livekit:
        _usage("ivrnav line needs --livekit (the simulated line without LiveKit is `ivrnav run`)")
    mf = _load(file).menu_file
    values = parse_vars(mf, var_pairs, None)
    try:
        settings = livekit_settings()
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


def entry() -> None:  # pragma: no cover - console script shim
    try:
        main()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


def _register_discovery() -> None:
    from ivrnav.discover.commands import discover, fix

    main.add_command(discover)
    main.add_command(fix)


_register_discovery()
