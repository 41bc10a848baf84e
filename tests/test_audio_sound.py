"""A goal confirmed by the sound it plays, over the audio path: the simulated line renders ringback into its
audio, the navigator learns of it only from the sound classifier listening to that audio (the line's own
sound reports are withheld), and a silent line confirms nothing."""

from __future__ import annotations

import pytest

from ivrnav.menu.compiler import compile_text
from tests.parts import require_speech_models

pytestmark = pytest.mark.speech

LINE = """
ivrnav: 1
name: line
start: main
line: {wait: 5}
menus:
  main:
    prompt: For sales, press 1.
    options:
      - {press: "1", says: sales, to: sales}
  sales:
    prompt: "[ringing]"
    line: {sound: ringing, terminal: true}
"""

MAP = """
ivrnav: 1
name: map
start: main
defaults: {max_call: 10}
menus:
  main:
    prompt: For sales, press 1.
    options:
      - {press: "1", says: sales, to: sales}
  sales:
    prompt: It rings a salesperson.
    confirm: {sound: ringing}
"""


@pytest.fixture(scope="module")
def engines():
    require_speech_models()
    from ivrnav.speech.audio_call import SpeechEngines

    return SpeechEngines()


def _call(line_text: str, engines):
    from ivrnav.speech.audio_call import simulate_audio_call

    return simulate_audio_call(compile_text(MAP, "map.yaml").menu_file,
                               line_file=compile_text(line_text, "line.yaml").menu_file, goal="sales", engines=engines)


def test_ringing_heard_in_the_audio_after_the_key_confirms_the_goal(engines) -> None:
    call = _call(LINE, engines)
    assert call.result.reached, (call.result.reason, call.result.detail)
    assert "confirmed: ringing" in call.result.detail
    assert [k for k, _ in call.line_keys] == ["1"] and call.line_visited[-1] == "sales"
    assert any(r["kind"] == "line_sound" and r["sound"] == "ringing" for r in call.trace)
    assert call.stats.audio_seconds < 8


def test_a_silent_line_after_the_key_confirms_nothing(engines) -> None:
    call = _call(LINE.replace("sound: ringing,", "sound: silence,"), engines)
    assert not call.result.reached, call.result.detail
    assert call.line_visited[-1] == "sales"
    assert not any(r["kind"] == "line_sound" for r in call.trace)


def test_hold_music_heard_in_the_audio_is_told_from_ringing_and_confirms_a_music_goal(engines) -> None:
    from ivrnav.speech.audio_call import simulate_audio_call

    line = compile_text(LINE.replace("sound: ringing,", "sound: music,"), "line.yaml").menu_file
    music_map = compile_text(MAP.replace("confirm: {sound: ringing}", "confirm: {sound: [music, ringing]}"), "map.yaml")
    call = simulate_audio_call(music_map.menu_file, line_file=line, goal="sales", engines=engines)
    assert call.result.reached and "confirmed: music" in call.result.detail, call.result.detail
