"""Real phone trees over the audio path with real recorded prompts (Asterisk's core sounds) instead of Piper:
the line plays the recordings, Whisper hears them, the keys go as in-band DTMF."""

from __future__ import annotations

import pytest

from tests.parts import missing_part, require_speech_models

pytestmark = pytest.mark.speech

# (tree in bench/real, goal): entries of an agent number and a secret PIN, a conference number and PIN
CASES = [("asterisk_agent_login", "logged_in"), ("asterisk_meetme", "joined")]


@pytest.fixture(scope="module")
def engines():
    require_speech_models()
    from ivrnav.speech.audio_call import SpeechEngines
    from ivrnav.speech.recordings import Recordings

    try:
        recordings = Recordings.asterisk()
    except FileNotFoundError as exc:
        missing_part("Asterisk's recorded prompts (scripts/ensure-asterisk-sounds)", str(exc))
    return SpeechEngines(recordings=recordings)


def test_recordings_cover_the_trees_prompts(engines) -> None:
    recordings = engines.recordings
    for sentence in ("Agent login.", "Please enter your agent number followed by the pound key.",
                     "Please enter the conference pin number.", "Comedian Mail.", "Mailbox?"):
        audio = recordings.get(sentence)
        assert audio is not None and len(audio) > 0.3 * recordings.rate, sentence
    # a two-sentence recording is cut at its pause: each part is shorter than the whole
    whole = recordings.get("Agent login.").size + recordings.get(
        "Please enter your agent number followed by the pound key.").size
    assert recordings.get("Agent login.").size < 0.5 * whole


@pytest.mark.parametrize(("tree", "goal"), CASES)
def test_goal_reached_over_audio_with_recorded_prompts(engines, tree: str, goal: str) -> None:
    from bench.real import trees
    from ivrnav.speech.audio_call import simulate_audio_call

    t = next(x for x in trees() if x.name == tree)
    before = engines.recorded
    call = simulate_audio_call(t.map, line_file=t.line, goal=goal, engines=engines)
    assert call.result.reached, call.result.detail
    assert goal in call.line_visited
    assert engines.recorded > before  # the prompts came from the recordings, not Piper
    shown = repr(call.trace) + repr(call.result)
    for name in t.map.secret_vars:  # the PIN went as tones; its value is in no trace or result
        assert t.map.vars[name].default not in shown


def test_a_one_word_recorded_prompt_is_heard_whole_wherever_it_falls_in_the_vad_windows(engines) -> None:
    """Asterisk's voicemail asks for the password with one recorded word, which Silero scores unevenly at
    8 kHz ("pass" dips below the threshold in some alignments). The utterance must open at the word's start,
    or Whisper hears "Word"."""
    import numpy as np

    from ivrnav.speech.audio import telephone_channel
    from ivrnav.speech.stt import IncrementalRecognizer

    word = telephone_channel(engines.recordings.get("password"), engines.recordings.rate)
    recognizer = IncrementalRecognizer(8000, model=engines.whisper)
    for shift in (0, 60, 320):  # samples of lead-in: where the word falls in Silero's 32 ms windows
        recognizer.reset()
        pcm = np.concatenate([np.zeros(4000 + shift, np.int16), word, np.zeros(16000, np.int16)])
        finals = [t.text for i in range(0, pcm.size, 160) for t in recognizer.feed(pcm[i : i + 160]) if t.is_final]
        assert any("password" in f.lower() for f in finals), (shift, finals)


def test_discovery_through_audio_hears_a_one_word_recorded_prompt(engines) -> None:
    """The crawl gets past the voicemail's mailbox entry (refused first without its #: "Sorry, that is not a
    valid option. Comedian mail, mailbox.") to its one-word password prompt, and maps it as an entry (seeded:
    the same audio every run)."""
    from bench.real import trees
    from ivrnav.discover.crawl import AudioCalls, crawl
    from ivrnav.discover.explorer import ENTRY, Budget, Explorer
    from ivrnav.text import normalise

    line = next(x for x in trees() if x.name == "asterisk_voicemail").line
    values = dict(line.line.vars)
    explorer = Explorer(values=values, budget=Budget(max_calls=5))
    crawl(explorer, AudioCalls(line, seed=1, engines=engines), secrets=list(values.values()))
    heard = {name: [normalise(h) for h in node.hearings] for name, node in explorer.nodes.items()}
    login = explorer.nodes[explorer.root]
    assert ENTRY in login.outcomes and login.outcomes[ENTRY].to, heard
    behind = explorer.nodes[login.outcomes[ENTRY].to]
    assert behind.kind == "entry" and any(h.endswith("password") for h in heard[behind.name]), heard
