"""Discovery over a real telephone: the discovering process dials the line through livekit-sip on 127.0.0.1
(``LiveKitCalls``, what ``ivrnav discover --livekit`` and ``--local`` run), hears it with offline Whisper and
presses with ``publish_dtmf``; the file's simulated IVR answers behind an inbound trunk for each call.
Assertions are on the keys the IVR received, what the crawl heard and what its traces and draft show."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ivrnav.cli import main
from ivrnav.livekit.devsip import LoopbackTelephone
from tests import livekit_fixtures
from tests.parts import require_speech_models

pytestmark = [pytest.mark.livekit, pytest.mark.speech]

telephone = livekit_fixtures.telephone


@pytest.fixture(scope="module", autouse=True)
def speech_models() -> None:
    require_speech_models()


MEMBER = "4815162342"  # the clinic line's member number: the crawl must enter it and never show it
CLINIC = f"""\
ivrnav: 1
name: Member clinic
phone: "+18005550177"
start: main
vars:
  member: {{secret: true, pattern: "^[0-9]{{10}}$"}}
menus:
  main:
    prompt: Thank you for calling the clinic. For appointments, press 1. For the pharmacy, press 2.
    options:
      - {{press: "1", says: appointments, to: member}}
      - {{press: "2", says: pharmacy, to: pharmacy}}
  member:
    prompt: Please enter your ten digit member number, followed by the pound key.
    enter: "{{member}}#"
    next: booked
  booked:
    prompt: Your next appointment is on Monday morning. Goodbye.
    line: {{hangup_after: true}}
  pharmacy:
    prompt: The pharmacy is closed today. Goodbye.
    line: {{hangup_after: true}}
line:
  vars: {{member: "{MEMBER}"}}
"""


def test_discovery_dials_the_line_over_sip_enters_a_value_and_never_shows_it(telephone: LoopbackTelephone,
                                                                              tmp_path: Path) -> None:
    """``ivrnav discover --livekit``'s calls: this process dials the number through the outbound trunk, hears the
    line with offline Whisper and presses with publish_dtmf; the IVR behind livekit-sip gets each probe's keys
    as RFC 4733 events, the member number included, which no trace, note or draft shows."""
    from ivrnav.discover.crawl import crawl
    from ivrnav.discover.draft import write_draft
    from ivrnav.discover.explorer import ENTRY, Budget, Explorer
    from ivrnav.livekit.dial import LiveKitSettings
    from ivrnav.livekit.localcall import answering_line
    from ivrnav.livekit.probecall import LiveKitCalls
    from ivrnav.menu.compiler import compile_text

    line = compile_text(CLINIC, "clinic.yaml").menu_file
    assert line.phone is not None
    reports: list[Any] = []
    calls = LiveKitCalls(line.phone, LiveKitSettings(telephone.url, telephone.api_key, telephone.api_secret), "",
                         around_call=lambda _n: answering_line(telephone, line, number=line.phone, reports=reports))
    notes: list[str] = []
    try:
        calls.trunk = calls.run(telephone.outbound_trunk())
        ex = Explorer(values={"member": MEMBER}, avoid=(), try_keys="", budget=Budget(max_calls=8))
        stopped = crawl(ex, calls, secrets=[MEMBER], traces_dir=tmp_path / "traces",
                        on_call=lambda _n, _item, result: notes.append(f"{result.reason}: {result.detail}"))
    finally:
        calls.close()
    keys = ["".join(k.digit for k in report.keys) for report in reports]
    story = f"{stopped}; {notes}; line keys {keys}; line ended {[r.ended for r in reports]}"
    assert stopped == "done", story
    # the first call only listens; then each offer, and the entry crossed with the value and its pound key (tried
    # without it first when the STT missed "followed by the pound key": the line then asks again)
    tried = set(keys[1:])
    # a busy machine's STT may also hear a key that is not offered ("press, for," read as "press 4"): tried like
    # any offer, once, at the first menu, never past it
    assert keys[0] == "" and {"1", "2", f"1{MEMBER}#"} <= tried, story
    assert all(len(k) == 1 for k in tried - {"1", "2", f"1{MEMBER}", f"1{MEMBER}#"}), story
    # the line went where each trial led, and the map puts what it heard there at the end of those keys
    ends = {r.visited[-1] for r, k in zip(reports, keys, strict=True) if k in ("2", f"1{MEMBER}#")}
    assert ends == {"pharmacy", "booked"}, story
    # both closing messages were heard to the end although the line hung up on them (the STT holds those words
    # at the BYE; whatever it makes of them on a busy machine)
    root = ex.nodes[ex.root]
    pharmacy, entry = ex.nodes[root.outcomes["2"].to], ex.nodes[root.outcomes["1"].to]
    booked = ex.nodes[entry.outcomes[ENTRY].to]
    assert entry.kind == "entry" and pharmacy.kind == booked.kind == "message", story
    assert pharmacy.hangs_up and booked.hangs_up and pharmacy.hearings and booked.hearings, story
    draft = write_draft(ex, name="clinic")
    assert MEMBER not in draft and compile_text(draft, "draft.yaml").warnings == ()
    traces = sorted((tmp_path / "traces").glob("call-*.jsonl"))
    assert len(traces) == len(reports)
    assert all(MEMBER not in t.read_text() for t in traces)
    records = [json.loads(record) for t in traces for record in t.read_text().splitlines()]
    sent = [r["digits"] for r in records if r["kind"] == "send_digits"]
    assert "••••••••••#" in sent, sent  # the entry went out, masked


def test_discover_local_maps_a_file_over_the_loopback_telephone_into_a_draft_that_validates(tmp_path: Path) -> None:
    """``ivrnav discover FILE --local``: its own loopback telephone, FILE's IVR answering each call over SIP."""
    from tests.test_discover import TINY

    path, out, traces = tmp_path / "tiny.yaml", tmp_path / "draft.yaml", tmp_path / "traces"
    path.write_text(TINY)
    res = CliRunner().invoke(main, ["discover", str(path), "--local", "--try-keys", "", "-o", str(out),
                                    "--traces", str(traces)])
    assert res.exit_code == 0, res.output
    found = re.search(r"discovered 3 menus in (\d+) calls", res.output)  # a call that diverged is made again
    assert "(--local)" in res.output and found, res.output
    assert CliRunner().invoke(main, ["validate", "--strict", str(out)]).exit_code == 0
    assert out.read_text().count("confirm: {hangup: true}") == 2  # both branches reached by their keys
    assert len(list(traces.glob("call-*.jsonl"))) == int(found.group(1))


def test_discover_livekit_says_what_is_missing_before_any_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "LIVEKIT_SIP_TRUNK_ID"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "draft.yaml"
    no_server = CliRunner().invoke(main, ["discover", "+18005550177", "--livekit", "-o", str(out)])
    assert no_server.exit_code == 2 and "LIVEKIT_URL" in no_server.output, no_server.output
    monkeypatch.setenv("LIVEKIT_URL", "ws://127.0.0.1:9")
    monkeypatch.setenv("LIVEKIT_API_KEY", "key")
    monkeypatch.setenv("LIVEKIT_API_SECRET", "s" * 32)
    no_trunk = CliRunner().invoke(main, ["discover", "+18005550177", "--livekit", "-o", str(out)])
    assert no_trunk.exit_code == 2 and "--trunk" in no_trunk.output, no_trunk.output
    unreachable = CliRunner().invoke(main, ["discover", "+18005550177", "--livekit", "--trunk", "ST_x", "-o", str(out)])
    assert unreachable.exit_code == 2 and "cannot reach the LiveKit server" in unreachable.output, unreachable.output
    number = CliRunner().invoke(main, ["discover", "+18005550177", "-o", str(out)])
    assert number.exit_code == 2 and "add --livekit" in number.output
    assert not out.exists()
