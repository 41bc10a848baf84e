"""Calls simulated through real audio: Piper speaks the line, Whisper hears it, keys go as in-band DTMF.

Each call runs once per module (the models are shared) and several tests look at it. Goals are short
(15-25 s of line audio) so the file stays well under three minutes on two cores.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivrnav.cli import main
from ivrnav.menu.compiler import compile_file, compile_text
from ivrnav.menu.model import MenuFile
from ivrnav.menu.template import MASK
from tests.parts import require_speech_models

pytestmark = pytest.mark.speech

MENUS = Path(__file__).resolve().parent.parent / "menus"
# (menu file, goal): the bank's fraud menu, a type-ahead utility menu, and a pharmacy goal that needs
# a secret DTMF entry (prescription number and pound) heard by the line's detector.
CASES = [("bank.yaml", "fraud"), ("utility.yaml", "service"), ("pharmacy.yaml", "refill_dob")]


@pytest.fixture(scope="module")
def engines():
    require_speech_models()
    from ivrnav.speech.audio_call import SpeechEngines

    return SpeechEngines()


@pytest.fixture(scope="module", params=CASES, ids=[f"{m.split('.')[0]}-{g}" for m, g in CASES])
def call(request, engines):
    from ivrnav.speech.audio_call import simulate_audio_call

    menu, goal = request.param
    mf = compile_file(MENUS / menu).menu_file
    return mf, goal, simulate_audio_call(mf, goal=goal, engines=engines)


def _secrets(mf: MenuFile) -> list[str]:
    return [v for name, v in mf.line.vars.items() if name in mf.secret_vars]


def test_reaches_goal_over_audio(call) -> None:
    _mf, goal, c = call
    assert c.result.reached, (c.result.reason, c.result.detail)
    assert c.result.final_menu == goal
    assert c.line_visited[-1] == goal  # the line really went there
    s = c.stats
    # The navigator heard audio, not text: transcripts came from the recogniser.
    assert s.transcripts > 0 and s.sentences > 0 and s.line_speech_seconds > 5
    assert 5 < s.audio_seconds < 40
    assert any(r["kind"] == "heard" for r in c.trace) and any(r["kind"] == "line_audio" for r in c.trace)


def test_line_detected_exactly_the_keys_sent(call) -> None:
    mf, _goal, c = call
    sent = c.keys_sent  # caller side: (masked key, tone start)
    got = c.line_keys  # line side: (key from the DTMF detector, time)
    assert len(got) == len(sent) == c.stats.keys_detected == c.result.timing.keys_sent
    for (masked, t_sent), (key, t_got) in zip(sent, got, strict=True):
        assert masked in (MASK, key)
        assert 0.02 <= t_got - t_sent <= 0.1  # two Goertzel blocks plus one frame
    if mf.name.startswith("Crestview"):
        # The secret entry arrived intact through tones, G.711 and the detector.
        assert "".join(k for k, _ in got).endswith(mf.line.vars["rx_number"] + "#")
    records = [r for r in c.trace if r["kind"] == "line_key"]
    assert [r["key"] for r in records] == [m for m, _ in sent]


def test_no_secret_value_in_trace_or_result(call) -> None:
    mf, _goal, c = call
    blob = json.dumps(c.trace) + c.result.to_json() + json.dumps(c.keys_sent)
    for secret in _secrets(mf):
        assert secret not in blob


SILENT = """
ivrnav: 1
name: Silent line
defaults: {no_prompt_timeout: 2, max_call: 60}
start: hello
menus:
  hello:
    prompt: For sales, press 1.
    options:
      - {press: "1", says: sales, to: sales}
    line: {silent: true}
  sales:
    prompt: Sales.
line: {repeats: 20, wait: 3}
"""


def test_silent_line_ends_by_the_navigators_ladder(engines) -> None:
    from ivrnav.speech.audio_call import simulate_audio_call

    mf = compile_text(SILENT).menu_file
    c = simulate_audio_call(mf, goal="sales", engines=engines)
    assert not c.result.reached
    assert c.result.reason == "no_prompt"
    assert c.stats.transcripts == 0 and c.stats.audio_seconds < 30


def test_cli_run_audio(engines, monkeypatch: pytest.MonkeyPatch) -> None:
    from ivrnav.speech.audio_call import SpeechEngines

    monkeypatch.setattr(SpeechEngines, "_default", engines)  # reuse loaded models and the TTS cache
    result = CliRunner().invoke(main, ["run", str(MENUS / "bank.yaml"), "--audio", "--goal", "fraud"])
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "REACHED fraud" in out
    assert "real-time factor" in out and "keys 2/2 detected in audio" in out
    assert "dtmf line detected 3" in out
