"""``ivrnav discover`` and ``ivrnav fix``: the command-line adapters of discovery."""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import MappingProxyType

import click

from ivrnav.cli_inputs import load_secrets
from ivrnav.discover.crawl import AudioCalls, PlaceCall, SimulatedCalls, crawl, load_state
from ivrnav.discover.draft import write_draft
from ivrnav.discover.explorer import DEFAULT_AVOID, DEFAULT_TRY_KEYS, Budget, Explorer
from ivrnav.discover.fix import FixError, propose, read_traces
from ivrnav.files import InputFileError, check_output, write_text
from ivrnav.menu.model import MenuFile

PHONE_NUMBER = re.compile(r"\+[1-9][0-9]{6,14}")  # E.164: what --livekit may dial instead of a file's phone
LOCAL_NUMBER = "+18005550100"  # the loopback telephone's number for a file without a phone


def _cli():  # the base CLI module (imported late: it registers these commands)
    from ivrnav import cli

    return cli


def _values(pairs: tuple[str, ...], secrets_file: str | None) -> dict[str, str]:
    """Values to enter, by name: ``--secrets FILE`` (read like ``run --secrets``: bounded, values as written)
    then ``--var``. Names are free: the crawler matches them to entry prompts."""
    values: dict[str, str] = {}
    if secrets_file:
        try:
            values.update(load_secrets(secrets_file))
        except InputFileError as exc:
            _cli()._usage(exc.message)
    for pair in pairs:
        if "=" not in pair:
            _cli()._usage("--var takes NAME=VALUE")  # never echo the argument: it may be the value
        name, value = pair.split("=", 1)
        values[name.strip()] = value
    return values


@click.command()
@click.argument("file", metavar="FILE|NUMBER")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Write the draft menu file here.")
@click.option("--max-calls", type=click.IntRange(1, 100_000), default=200, show_default=True)
@click.option("--max-minutes", type=click.FloatRange(0.1, 100_000), default=120.0, show_default=True,
              help="Budget of line time, in minutes.")
@click.option("--max-depth", type=click.IntRange(1, 100), default=12, show_default=True)
@click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE",
              help="A value to enter where the line asks for NAME (repeatable); entries without one are not crossed.")
@click.option("--secrets", "secrets_file", type=click.Path(dir_okay=False), help="YAML file of such values.")
@click.option("--avoid", multiple=True, metavar="WORDS",
              help=f"Never try offers whose label says this (repeatable; default: {', '.join(DEFAULT_AVOID)}; "
              "'none' tries everything).")
@click.option("--try-keys", default=DEFAULT_TRY_KEYS, show_default=True,
              help="Keys tried at every menu although its prompt does not offer them ('' for none).")
@click.option("--wer", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Simulated speech-recognition errors on the simulated line.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--audio", is_flag=True, help="Call through audio: offline TTS -> telephone channel -> offline STT, "
              "keys as in-band DTMF (needs the speech extra).")
@click.option("--livekit", is_flag=True, help="Dial the line through a LiveKit SIP outbound trunk (LIVEKIT_URL, "
              "LIVEKIT_API_KEY, LIVEKIT_API_SECRET; --trunk or LIVEKIT_SIP_TRUNK_ID): FILE's phone, or the "
              "E.164 NUMBER given instead of a file. Offline Whisper listens in this process: no worker, and "
              "the values entered never leave it.")
@click.option("--local", is_flag=True, help="As --livekit, over the loopback telephone on this machine "
              "(livekit-sip on 127.0.0.1) with FILE's simulated IVR answering: a real SIP/RTP crawl.")
@click.option("--trunk", help="SIP outbound trunk id for --livekit (default: $LIVEKIT_SIP_TRUNK_ID).")
@click.option("--resume", "state_path", type=click.Path(dir_okay=False),
              help="Crawl state file: resumed when it exists, updated after every call.")
@click.option("--traces", "traces_dir", type=click.Path(file_okay=False),
              help="Keep every call's trace in this folder.")
@click.option("--name", help="The draft's name (default: from the line).")
def discover(file: str, output: str, max_calls: int, max_minutes: float, max_depth: int, var_pairs: tuple[str, ...],
             secrets_file: str | None, avoid: tuple[str, ...], try_keys: str, wer: float, seed: int, audio: bool,
             livekit: bool, local: bool, trunk: str | None, state_path: str | None,
             traces_dir: str | None, name: str | None) -> None:
    """Map a phone line into a draft menu file: by default the simulated line of FILE (standing in for an
    unknown IVR: only its transcripts are heard); with --livekit the real line at FILE's phone or NUMBER.
    Each call follows the shortest known route to the first unexplored offer and tries it."""
    cli = _cli()
    if sum([audio, livekit, local]) > 1:
        cli._usage("choose one of --audio, --livekit and --local")
    if wer and (audio or livekit or local):
        cli._usage("--wer applies to the simulated line only: recognition errors come from the real STT")
    if PHONE_NUMBER.fullmatch(file) and not livekit:
        cli._usage(f"{file} is a phone number: add --livekit to dial it (or give a menu file)")
    line_file = (MenuFile(name=f"line {file}", start="", menus=MappingProxyType({}), phone=file, path=file)
                 if livekit and PHONE_NUMBER.fullmatch(file) else cli._load(file).menu_file)
    try:
        check_output(output, what="draft")  # before hours of calls, not after
    except InputFileError as exc:
        cli._usage(exc.message)
    demo = {**{n: v.default for n, v in line_file.vars.items() if v.default}, **line_file.line.vars}
    values = {**demo, **_values(var_pairs, secrets_file)}  # the line's demo values fill gaps, as in `run`
    budget = Budget(max_calls=max_calls, max_minutes=max_minutes, max_depth=max_depth)
    avoid_words = () if [a.lower() for a in avoid] == ["none"] else tuple(a.lower() for a in avoid) or DEFAULT_AVOID
    if state_path and os.path.exists(state_path):
        try:
            explorer = load_state(state_path, values={}, avoid=avoid_words, budget=budget, try_keys=try_keys)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            cli._usage(f"cannot resume from {state_path}: {type(exc).__name__}: {str(exc)[:120]}")
        queued = explorer.give(values)  # values given now may cross entries the last run could not
        cli.err_console.print(f"resuming: {explorer.calls} calls made, {len(explorer.nodes)} menus, "
                              f"{len(explorer.queue)} keys queued ({queued} entries newly crossable)")
    else:
        explorer = Explorer(values=values, avoid=avoid_words, budget=budget, try_keys=try_keys)
    secrets = [v for v in values.values() if v]

    def progress(p: object) -> None:
        cli.err_console.print(f"call {p.calls:3d}  menus {p.menus:3d}  queue {p.queue:3d}  "  # type: ignore[attr-defined]
                              f"line time {p.line_minutes:5.1f} min  {cli._escape(p.last)}")  # type: ignore[attr-defined]

    if audio or livekit or local:
        from ivrnav.extras import MissingExtra, require

        how = "--audio" if audio else "--livekit" if livekit else "--local"
        try:
            require(f"ivrnav discover {how}", "speech", *(("livekit",) if livekit or local else ()))
        except MissingExtra as exc:
            cli._usage(str(exc))
    try:
        with _calls(line_file, audio=audio, livekit=livekit, local=local, trunk=trunk, wer=wer, seed=seed) as place:
            if livekit or local:
                cli.err_console.print(f"calling {line_file.phone or LOCAL_NUMBER} ({how}) to map the line")
            stopped = crawl(explorer, place, secrets=secrets,
                            on_progress=progress, traces_dir=traces_dir, state_path=state_path)
    except KeyboardInterrupt:
        cli.err_console.print("[yellow]interrupted[/]" + (f"; resume with --resume {state_path}" if state_path else ""))
        raise SystemExit(130) from None
    except _CannotCall as exc:
        cli.err_console.print(f"[red]error:[/] {cli._escape(str(exc))}")
        raise SystemExit(2) from None
    if explorer.root is None:
        cli.err_console.print(f"[red]nothing discovered:[/] {stopped}")
        raise SystemExit(cli.EXIT_FAIL)
    draft = write_draft(explorer, name=name or f"Draft of {line_file.name}", phone=line_file.phone,
                        stopped=None if stopped == "done" else stopped)
    try:
        write_text(output, draft, what="draft")
    except InputFileError as exc:
        cli._usage(exc.message)
    cli.console.print(f"discovered {len(explorer.nodes)} menus in {explorer.calls} calls "
                      f"({explorer.line_seconds / 60:.1f} min of line time); {stopped}; draft written to {output}")


class _CannotCall(RuntimeError):
    """The calls cannot be placed (LiveKit settings, server, trunk, loopback telephone parts)."""


@contextlib.contextmanager
def _calls(line_file: MenuFile, *, audio: bool, livekit: bool, local: bool, trunk: str | None, wer: float,
           seed: int) -> Iterator[PlaceCall]:
    """How the crawl's calls are placed, for the command's flags (and torn down after)."""
    if audio:
        yield AudioCalls(line_file, seed=seed)
        return
    if not (livekit or local):
        yield SimulatedCalls(line_file, wer=wer, seed=seed)
        return
    from ivrnav.livekit.devserver import LiveKitServerError
    from ivrnav.livekit.dial import DialError, LiveKitSettings, livekit_settings, sip_trunk
    from ivrnav.livekit.probecall import LiveKitCalls

    calls: LiveKitCalls | None = None
    try:
        if livekit:
            if not line_file.phone:
                raise _CannotCall(f"{line_file.path} has no `phone`: add the E.164 number to dial, or give the number")
            calls = LiveKitCalls(line_file.phone, livekit_settings(), sip_trunk(trunk))
            yield calls
            return
        from ivrnav.livekit.devsip import LoopbackTelephone
        from ivrnav.livekit.localcall import answering_line

        number = line_file.phone or LOCAL_NUMBER
        with LoopbackTelephone() as telephone:
            calls = LiveKitCalls(number, LiveKitSettings(telephone.url, telephone.api_key, telephone.api_secret), "",
                                 around_call=lambda _n: answering_line(telephone, line_file, number=number))
            calls.trunk = calls.run(telephone.outbound_trunk())
            yield calls
    except DialError as exc:
        raise _CannotCall(str(exc)) from None
    except (LiveKitServerError, OSError) as exc:
        raise _CannotCall(f"the loopback telephone could not start: {exc}") from None
    finally:
        if calls is not None:
            calls.close()


@click.command()
@click.argument("map_file", type=click.Path(dir_okay=False))
@click.option("--from", "traces", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="A trace of `ivrnav run MAP --trace FILE` (repeatable).")
@click.option("--write", is_flag=True, help="Write the edit into MAP_FILE (default: only show the diff).")
def fix(map_file: str, traces: tuple[str, ...], write: bool) -> None:
    """Propose the changes that calls' traces show (moved keys, reworded prompts, new menus) as an edit of
    MAP_FILE that keeps its comments and layout; shown as a diff, written only with --write."""
    cli = _cli()
    compiled = cli._load(map_file)
    prompts = {n: m.prompt for n, m in compiled.menu_file.menus.items()}
    try:
        found = read_traces(traces, prompts)
        old, new, changes = propose(map_file, found)
    except FixError as exc:
        cli._usage(str(exc))
    if old == new:
        cli.console.print(f"{map_file}: the {found.traces} trace(s) show nothing to change")
        return
    diff = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                fromfile=map_file, tofile=f"{map_file} (fixed)")
    sys.stdout.write("".join(diff))
    for change in changes:
        cli.err_console.print(f"- {cli._escape(change)}")
    if write:
        tmp = Path(map_file).with_name(Path(map_file).name + ".ivrnav-fix.tmp")
        try:
            write_text(tmp, new, what="menu file")
            os.replace(tmp, map_file)
        except (InputFileError, OSError) as exc:
            cli._usage(exc.message if isinstance(exc, InputFileError) else f"cannot write {map_file}: {exc}")
        cli.err_console.print(f"written: {map_file}")
    else:
        cli.err_console.print("not written: run again with --write to apply")


__all__ = ["discover", "fix"]
