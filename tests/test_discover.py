"""Discovery: mapping an unknown line from its transcripts alone, and fixing a map from call traces."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivrnav.cli import main
from ivrnav.discover.crawl import SimulatedCalls, crawl, load_state, save_state
from ivrnav.discover.draft import write_draft
from ivrnav.discover.explorer import ENTRY, Budget, Explorer
from ivrnav.discover.fix import propose, read_traces
from ivrnav.discover.observe import Sentence, entry_subject, kind_of, offers_in, read_observation
from ivrnav.discover.probe import Probe, Step
from ivrnav.menu.compiler import compile_file, compile_text
from ivrnav.menu.model import MenuFile
from ivrnav.navigate.events import CallEnded, Done, Heard, SendDigits, Tick
from ivrnav.sim.runner import simulate_call

ROOT = Path(__file__).resolve().parent.parent
BANK = ROOT / "menus" / "bank.yaml"
BANK_VALUES = {"account": "1234567890", "pin": "9876", "card_last4": "4821"}


def _s(text: str, start: float) -> Sentence:
    return Sentence(text, start, start + len(text.split()) / 2.5)


def _crawl(path: Path, values: dict[str, str], **budget: int) -> Explorer:
    line = compile_file(path).menu_file
    ex = Explorer(values=values, avoid=(), budget=Budget(**budget))
    crawl(ex, SimulatedCalls(line))
    return ex


@pytest.fixture(scope="module")
def bank_map() -> Explorer:
    return _crawl(BANK, BANK_VALUES)


# ------------------------------------------------------------------------------------ reading observations


def test_a_repeated_prompt_marks_where_the_waiting_menu_begins_and_what_came_before_moved_on():
    welcome1, welcome2 = _s("Thank you for calling.", 0), _s("Calls may be recorded.", 1.5)
    menu = _s("For sales, press 1. For support, press 2.", 3.0)
    again = _s("For sales, press 1. For support, press 2.", 12.0)
    obs = read_observation([welcome1, welcome2, menu, again], gap=1.2, ended="silence", silence_after=0)
    assert obs.ended == "repeat"
    assert [n.text for n in obs.nodes] == ["Thank you for calling. Calls may be recorded.", menu.text]
    assert [n.waits for n in obs.nodes] == [False, True]
    assert obs.nodes[1].again == again.text  # the repeat is kept as a second hearing


def test_a_message_before_the_repeat_is_kept_apart_from_the_prompt():
    menu = _s("For sales, press 1.", 0)
    obs = read_observation([menu, _s("I did not get that.", 9), _s("For sales, press 1.", 11)], gap=1.2,
                           ended="silence", silence_after=0)
    assert obs.nodes[-1].text == menu.text and obs.nodes[-1].message == "I did not get that."


def test_a_lost_sentence_inside_a_prompt_does_not_split_the_menu():
    # the STT dropped the middle sentence: a 4 s hole that looks like a pause
    first, last = _s("Main menu.", 0), _s("For support, press 2.", 5.0)
    obs = read_observation([first, last, _s("Main menu.", 14)], gap=1.2, ended="silence", silence_after=0)
    assert [n.text for n in obs.nodes] == ["Main menu. For support, press 2."]


def test_a_sentence_two_prompts_share_is_no_repeat_until_the_second_prompt_has_been_heard_out():
    risk = [_s("Welcome to RISK company!", 0), _s("please select an Action.", 2),
            _s("Call to your extension.", 4), _s("Or wait answer from operator!", 6)]
    main_menu = [_s("Welcome to A T L InfoTech!", 20), _s("please select an Action.", 22)]
    # the line is still speaking the main menu: its second sentence is not yet a repeat of the risk prompt
    obs = read_observation([*risk, *main_menu], gap=1.2, ended="silence", silence_after=0.2, tail_open=True)
    assert obs.ended != "repeat"
    rest = [_s("press 1, to listen Voice Mail.", 24), _s("press 2, to call Freeswitch I V R.", 26)]
    obs = read_observation([*risk, *main_menu, *rest], gap=1.2, ended="silence", silence_after=3)
    assert obs.ended != "repeat" and len(obs.nodes) == 2  # two prompts, the second moved on from the first


def test_prompt_kinds_are_read_from_their_words():
    assert kind_of("Please hold for the next available agent.", {}) == "hold"
    assert kind_of("Hi, my name is Dana. How can I help you?", {}) == "human"
    assert kind_of("Please enter your account number followed by the pound key.", {}) == "entry"
    assert kind_of("Comedian Mail. Mailbox?", {}) == "entry"
    assert kind_of("In a few words, tell me why you are calling.", {}) == "speech"
    offers = offers_in("For sales, press 1. For support, press 2.")
    assert offers == {"1": "sales", "2": "support"} and kind_of("For sales, press 1.", offers) == "menu"
    assert offers_in("Otherwise, please press star now.") == {"*": ""}  # a bare key is still worth a try


# ------------------------------------------------------------------------------------------- the probe


def test_the_probe_reports_a_route_that_no_longer_matches_instead_of_pressing_into_the_unknown():
    probe = Probe([Step("1", "for sales press 1 for support press 2")], Step("2", "sales menu"))
    probe.handle(Heard("We are closed for the holidays.", True, 0.0, 2.0))
    actions = probe.handle(Tick(4.0))
    assert not any(isinstance(a, SendDigits) for a in actions)
    assert probe.result is not None and probe.result.reason == "diverged"


def test_the_probe_presses_the_route_at_each_pause_and_observes_after_the_trial():
    probe = Probe([Step("1", "for sales press 1")], Step("2", "sales menu press 2"))
    probe.handle(Heard("For sales, press 1.", True, 0.0, 1.6))
    sent = [a for a in probe.handle(Tick(3.0)) if isinstance(a, SendDigits)]
    assert [a.digits for a in sent] == ["1"]
    from ivrnav.navigate.events import DigitsSent

    probe.handle(DigitsSent("1", 3.2))
    probe.handle(Heard("Sales menu, press 2.", True, 3.5, 5.0))
    sent = [a for a in probe.handle(Tick(6.5)) if isinstance(a, SendDigits)]
    assert [a.digits for a in sent] == ["2"]
    probe.handle(DigitsSent("2", 6.6))
    probe.handle(Heard("Goodbye.", True, 7.0, 7.5))
    done = [a for a in probe.handle(CallEnded("hangup", 8.0)) if isinstance(a, Done)]
    assert done and probe.result.reached and [n.text for n in probe.result.observation.nodes] == ["Goodbye."]


def test_a_line_reading_an_entered_value_back_never_puts_it_in_what_the_probe_observed():
    """The probe hears what it entered read back ("you entered 4 8 1 5 ..."): the observation (which becomes the
    draft's prompt and listen phrases), the notes and the result hold it masked."""
    from ivrnav.navigate.events import DigitsSent

    probe = Probe([], Step("4815162342#", "enter your member number", masked="••••••••••#"), secrets=["4815162342"])
    probe.handle(Heard("Please enter your member number.", True, 0.0, 2.0))
    assert [a.masked for a in probe.handle(Tick(3.5)) if isinstance(a, SendDigits)] == ["••••••••••#"]
    probe.handle(DigitsSent("4815162342#", 6.0))
    probe.handle(Heard("You entered 4 8 1 5 1 6 2 3 4 2. Goodbye.", True, 6.5, 10.0))
    probe.handle(CallEnded("hangup", 10.5))
    assert probe.result is not None and probe.result.reached
    told = [n.text for n in probe.result.observation.nodes] + [n.text for n in probe.drain_notes()]
    assert any("You entered" in t for t in told) and not any("4 8 1 5" in t or "4815" in t for t in told), told


def test_a_prompt_said_again_with_other_sentence_breaks_is_a_repeat():
    """Whisper punctuates each hearing its own way: "Comedian mail, mailbox." then "in mail. Mailbox." are the
    voicemail's prompt said twice, though no sentence of one lines up with a sentence of the other."""
    said = [Sentence("Sorry, that is not a valid option.", 0.0, 2.0), Sentence("Comedian mail, mailbox.", 2.0, 3.5),
            Sentence("in mail.", 9.0, 9.8), Sentence("Mailbox.", 9.8, 10.5)]
    obs = read_observation(said, gap=1.2, ended="silence", silence_after=5.0)
    assert obs.ended == "repeat"
    assert [n.text for n in obs.nodes] == ["Sorry, that is not a valid option.", "Comedian mail, mailbox."]
    assert obs.nodes[-1].repeated and not obs.nodes[0].waits
    # different prompts stay different, however they are cut
    other = [*said[:2], Sentence("Please enter your password.", 9.0, 10.5)]
    assert read_observation(other, gap=1.2, ended="silence", silence_after=5.0).ended == "silence"


def test_a_transcript_of_two_sentences_is_read_as_a_message_then_the_prompt_again():
    """A VAD-cut recogniser hears MeetMe's refusal and its prompt, said with hardly a pause, as one transcript.
    The probe reads it as the line reporting each sentence would: a message, then the prompt said again."""
    from ivrnav.navigate.events import DigitsSent

    probe = Probe([], Step("1234", "enter the conference pin number"))
    probe.handle(Heard("Please enter the conference pin number.", True, 0.0, 2.0))
    assert [a.digits for a in probe.handle(Tick(3.5)) if isinstance(a, SendDigits)] == ["1234"]
    probe.handle(DigitsSent("1234", 4.5))
    probe.handle(Heard("Please enter the conference pin number.", True, 5.0, 7.0))
    probe.handle(Tick(9.0))
    probe.handle(Heard("That pin is invalid for this conference. Please enter the conference pin number.",
                       True, 14.0, 19.0))
    probe.handle(Tick(21.0))
    assert probe.result is not None and probe.result.reason == "observed", probe.result
    [prompt] = probe.result.observation.nodes
    assert prompt.repeated and prompt.message == "That pin is invalid for this conference."
    assert prompt.again == "Please enter the conference pin number."


def test_music_is_a_place_the_probe_listens_through_and_ringing_is_one_it_leaves():
    """Real lines play hold music and ringback, which no recogniser writes as words: the sound classifier's
    reports are heard as "[music]" or "[ringing]". Music holds the call, so the probe listens past its usual
    silence for what answers; ringing (a transfer's goal) ends the observation like any quiet."""
    from ivrnav.navigate.events import Sounded

    held = Probe([], None)
    held.handle(Heard("You are caller number two. Thank you for your patience.", True, 0.0, 3.0))
    for t in range(4, 34):  # half a minute of music, reported each second
        held.handle(Sounded("music", 3.5, float(t)))
        assert held.result is None, t
    held.handle(Heard("Support, this is Dana speaking.", True, 34.0, 36.0))
    held.handle(Tick(60.0))
    assert held.result is not None and held.result.reason == "observed"
    assert [x.text for n in held.result.observation.nodes for x in n.sentences] == [
        "You are caller number two.", "Thank you for your patience.", "[music]", "Support, this is Dana speaking."]

    rung = Probe([], None)
    rung.handle(Heard("Thank you for calling the E T Phone Home Service.", True, 0.0, 1.5))
    t = 2.0
    while rung.result is None and t < 60:
        rung.handle(Sounded("ringing", 2.0, t))
        t += 0.5
    assert rung.result is not None and rung.result.detail == "the line stayed quiet for 12 s"
    assert rung.result.observation.nodes[-1].sentences[-1].text == "[ringing]"


# ------------------------------------------------------------------------------------- the bank, crawled


def test_the_bank_crawl_finds_its_menus_keys_entries_hold_and_person(bank_map: Explorer):
    by_prompt = {n.prompt: n for n in bank_map.nodes.values()}
    main_menu = next(n for p, n in by_prompt.items() if p.startswith("Main menu."))
    assert all(main_menu.outcomes[k].kind == "to" for k in "1230")
    # keys the prompt does not say are tried too: the bank's global star replays the menu, pound is refused
    assert main_menu.outcomes["*"].kind == "repeat" and main_menu.outcomes["#"].kind == "invalid"
    assert main_menu.offers["2"] == "credit card services"
    kinds = {n.kind for n in bank_map.nodes.values()}
    assert {"entry", "hold", "human", "speech", "message", "menu"} <= kinds
    entries = {n.entry_var for n in bank_map.nodes.values() if n.kind == "entry"}
    assert {"account", "pin", "card_last4"} <= entries  # matched by name, then by digit count ("four digits")
    welcome = bank_map.nodes[bank_map.root]
    assert welcome.kind == "message" and not welcome.waits and welcome.next is not None


def test_the_draft_is_a_valid_strict_menu_file_that_navigates_its_line_to_every_menu_it_found(bank_map: Explorer):
    text = write_draft(bank_map, name="draft")
    compiled = compile_text(text, "draft.yaml")
    assert compiled.warnings == ()  # validate --strict passes
    draft = compiled.menu_file
    line = compile_file(BANK).menu_file
    for goal in draft.menus:
        if goal == draft.start:
            continue
        call = simulate_call(draft, line_file=line, goal=goal, vars={k: v for k, v in BANK_VALUES.items()
                                                                     if k in draft.vars})
        assert call.result.reached, (goal, call.result.reason, call.result.detail)
        # and the line is where the draft says: the menu the line plays has the draft menu's prompt
        assert " ".join(line.menus[call.line_visited[-1]].prompt.split()) == draft.menus[goal].prompt, goal


def test_entries_without_a_value_are_not_crossed_and_no_value_reaches_the_draft(tmp_path: Path):
    ex = _crawl(BANK, {"account": "1234567890"})  # no pin
    text = write_draft(ex, name="draft")
    assert "1234567890" not in text
    pin = next(n for n in ex.nodes.values() if n.kind == "entry" and "PIN" in n.prompt)
    assert pin.skipped and "<entry>" in pin.skipped and not pin.outcomes
    compile_text(text, "draft.yaml")  # still a valid file


def test_a_crawl_resumed_from_its_state_ends_with_the_same_map_as_one_that_was_never_stopped(tmp_path: Path):
    line = compile_file(BANK).menu_file
    state = tmp_path / "state.json"
    first = Explorer(values=BANK_VALUES, avoid=(), budget=Budget(max_calls=4))
    assert crawl(first, SimulatedCalls(line), state_path=state).startswith("--max-calls")
    raw = state.read_text()
    assert "1234567890" not in raw and "9876" not in raw  # values are given again on resume, never stored
    resumed = load_state(state, values=BANK_VALUES, avoid=(), budget=Budget())
    assert crawl(resumed, SimulatedCalls(line), state_path=state) == "done"
    whole = _crawl(BANK, BANK_VALUES)
    assert write_draft(resumed, name="d").split("\n", 3)[3] == write_draft(whole, name="d").split("\n", 3)[3]
    save_state(resumed, state)
    assert json.loads(state.read_text())["calls"] == resumed.calls
    # through word errors too, where later hearings join places first found apart
    first = Explorer(values=BANK_VALUES, avoid=(), budget=Budget(max_calls=12))
    crawl(first, SimulatedCalls(line, wer=0.15, seed=1), state_path=state)
    resumed = load_state(state, values=BANK_VALUES, avoid=(), budget=Budget())
    crawl(resumed, SimulatedCalls(line, wer=0.15, seed=1), state_path=state)
    whole = Explorer(values=BANK_VALUES, avoid=(), budget=Budget())
    crawl(whole, SimulatedCalls(line, wer=0.15, seed=1))
    assert write_draft(resumed, name="d").split("\n", 3)[3] == write_draft(whole, name="d").split("\n", 3)[3]


def test_offers_that_may_do_harm_are_not_tried_unless_asked(tmp_path: Path):
    text = BANK.read_text().replace("To report fraud, press 3.", "To make a payment, press 3.")
    line_path = tmp_path / "paybank.yaml"
    line_path.write_text(text)
    line = compile_file(line_path).menu_file
    ex = Explorer(values=BANK_VALUES, budget=Budget())  # default --avoid list
    crawl(ex, SimulatedCalls(line))
    main_menu = next(n for n in ex.nodes.values() if n.prompt.startswith("Main menu."))
    assert "3" not in main_menu.outcomes and "payment" in main_menu.skipped["3"]
    assert "not explored: key 3" in write_draft(ex, name="d")


def test_discover_command_writes_a_draft_traces_and_progress(tmp_path: Path):
    out, traces = tmp_path / "draft.yaml", tmp_path / "traces"
    res = CliRunner().invoke(main, ["discover", str(BANK), "-o", str(out), "--traces", str(traces),
                                    "--var", "account=1234567890", "--var", "pin=9876"])
    assert res.exit_code == 0, res.output
    assert "call   1" in res.output and "draft written" in res.output
    assert CliRunner().invoke(main, ["validate", "--strict", str(out)]).exit_code == 0
    files = sorted(traces.glob("call-*.jsonl"))
    assert len(files) >= 15
    for f in files:  # every call's trace kept, strict JSON, no secret value
        text = f.read_text()
        assert "1234567890" not in text and "9876" not in text
        [json.loads(line) for line in text.splitlines()]
    bad = CliRunner().invoke(main, ["discover", str(BANK), "-o", str(out), "--var", "1234567890"])
    assert bad.exit_code == 2 and "1234567890" not in bad.output  # never echo what may be a secret


TEMPLATED = """\
ivrnav: 1
name: templated
start: main
menus:
  main:
    prompt: For appointments, press 1. For statements, press 2. For store hours, press 3.
    options:
      - {press: "1", says: appointments, to: info_a}
      - {press: "2", says: statements, to: info_b}
      - {press: "3", says: store hours, to: hours}
  info_a:
    prompt: Information about appointments is available on our website. To return to the main menu, press 9.
    options: [{press: "9", says: return to the main menu, to: main}]
  info_b:
    prompt: Information about statements is available on our website. To return to the main menu, press 9.
    options: [{press: "9", says: return to the main menu, to: main}]
  hours:
    prompt: Our store is open from nine to five. Please hold for the next available associate.
    hold: {max: 600}
    line: {hold: 20}
    next: person
  person:
    prompt: Hello, my name is Sam, how can I help you?
    human: true
"""


def test_templated_prompts_that_differ_in_the_offers_words_are_different_menus_and_back_keys_loop_back(
        tmp_path: Path):
    path = tmp_path / "templated.yaml"
    path.write_text(TEMPLATED)
    ex = _crawl(path, {})
    infos = [n for n in ex.nodes.values() if n.prompt.startswith("Information about")]
    assert len(infos) == 2
    main_menu = ex.nodes[ex.root]
    assert all(n.outcomes["9"].to == main_menu.name for n in infos)  # the back key found the known menu again
    assert {n.kind for n in ex.nodes.values()} >= {"hold", "human"}


SAME_KEYS_TEMPLATED = """\
ivrnav: 1
name: Same keys
start: main
menus:
  main:
    prompt: Welcome to scheduling services. For rewards points, press 1. For outages, press 2. To set up direct
      deposit, press 3. To ask about coverage, press 4.
    options:
      - {press: "1", says: rewards points, to: rewards}
      - {press: "2", says: outages, to: outages}
      - {press: "3", says: direct deposit, to: deeper}
      - {press: "4", says: coverage, to: coverage}
  deeper:
    prompt: Welcome to scheduling services. To request your records, press 1. For check orders, press 2. For
      appointments, press 3. To check an order, press 4.
    options:
      - {press: "1", says: records, to: rewards}
      - {press: "2", says: check orders, to: outages}
      - {press: "3", says: appointments, to: coverage}
      - {press: "4", says: check an order, to: outages}
  rewards: {prompt: Information about rewards points is available on our website., line: {hangup_after: true}}
  outages: {prompt: Information about outages is available on our website., line: {hangup_after: true}}
  coverage: {prompt: Information about coverage is available on our website., line: {hangup_after: true}}
line: {unmapped_key: invalid}
"""


def test_templated_menus_offering_the_same_keys_for_other_things_are_two_menus_not_a_repeat(tmp_path: Path):
    path = tmp_path / "same_keys.yaml"
    path.write_text(SAME_KEYS_TEMPLATED)
    ex = _crawl(path, {})
    main_menu = ex.nodes[ex.root]
    assert main_menu.outcomes["3"].kind == "to"  # not "repeat": the second menu offers other things
    deeper = ex.nodes[main_menu.outcomes["3"].to or ""]
    assert "records" in deeper.prompt and set(deeper.outcomes) >= {"1", "2", "3", "4"}


def test_a_count_in_an_entry_prompt_is_not_an_offer_so_the_prompt_is_an_entry():
    text = "To check on a prescription, enter the seven digit prescription number, then press pound."
    assert "7" not in offers_in(text) and kind_of(text, offers_in(text)) == "entry"
    code = ("Using your telephone keypad, enter the six character confirmation code for your trip. For letters, "
            "press the key with that letter on it. For example, for the letter C, press 2.")
    assert "6" not in offers_in(code) and kind_of(code, offers_in(code)) == "entry"
    assert offers_in("To set a new 4 digit PIN, press 4.") == {"4": "set a new 4 digit pin"}


def test_an_entry_takes_the_value_of_the_length_it_asks_for_and_names_said_by_their_initials():
    ex = Explorer(values={"rx_number": "4417203", "dob": "07041962", "zip": "60614", "pickup_day": "today"})
    # "day" is a word of pickup_day, but the prompt asks for 2 + 2 + 4 digits: only the 8-digit dob fits
    assert ex._entry_var("For your security, enter the patient's date of birth using two digits for the month, "
                         "two digits for the day, and four digits for the year.") == "dob"
    ex = Explorer(values={"npi": "1467582930", "service_date": "06022025", "service_type": "physical therapy"})
    assert ex._entry_var("Provider services. Please enter your ten digit National Provider Identifier, or N P I, "
                         "followed by the pound sign.") == "npi"
    ex = Explorer(values={"room": "600", "pin": "1234", "conference": "600"})
    assert ex._entry_var("Please enter the conference pin number.") == "pin"  # the later word is the one asked


QUIET_PLACES = """\
ivrnav: 1
name: Quiet places
start: main
line: {unmapped_key: invalid}
menus:
  main:
    prompt: For the conference, press 1. To leave, press 2.
    options:
      - {press: "1", says: the conference, to: joined}
      - {press: "2", says: leave, to: gone}
  joined:
    prompt: You are currently the only person in this conference.
    next: music
  music:
    prompt: "[music]"
    options: [{press: "*", to: user_menu}]
    line: {sound: music, terminal: true}
  user_menu:
    prompt: Press 1 to mute yourself, or 8 to exit.
    options:
      - {press: "1", says: mute yourself, to: muted}
      - {press: "8", says: exit, to: music}
    line: {timeout: {to: music}, repeats: 0}
  muted:
    prompt: You are now muted.
    next: music
  gone:
    prompt: "[hang-up]"
    line: {hangup: true}
"""


def test_a_hang_up_and_the_quiet_after_an_announcement_are_places_and_keys_lead_on_from_the_quiet(tmp_path: Path):
    path = tmp_path / "quiet.yaml"
    path.write_text(QUIET_PLACES)
    ex = _crawl(path, {})
    main_menu = ex.nodes[ex.root]
    gone = ex.nodes[main_menu.outcomes["2"].to or ""]
    assert gone.kind == "silent" and gone.hangs_up  # the line ended the call at once on 2
    joined = ex.nodes[main_menu.outcomes["1"].to or ""]
    assert joined.kind == "message" and not joined.waits
    quiet = ex.nodes[joined.next or ""]
    assert quiet.kind == "silent" and quiet.outcomes["*"].kind == "to"  # the probe pressed into the quiet
    assert "mute yourself" in ex.nodes[quiet.outcomes["*"].to or ""].prompt
    assert quiet.outcomes["0"].kind == "ignored"  # a key that changed nothing is no new place
    draft = write_draft(ex, name="quiet")
    compiled = compile_text(draft, "quiet.yaml")
    assert compiled.warnings == ()
    menus = compiled.menu_file.menus
    assert any(m.line.hangup for m in menus.values())
    # the announcement and the quiet it runs into are one menu: recognised by its words, with the quiet's keys
    conference = next(m for m in menus.values() if "only person" in m.prompt)
    assert [o.keys for o in conference.options] == ["*"] and conference.next is None


SHARED_ENDING = """\
ivrnav: 1
name: Shared ending
start: welcome
line: {unmapped_key: invalid}
menus:
  welcome:
    prompt: Congratulations. You have installed the demo. Like a normal phone you will navigate it by dialing digits.
      To learn more about the demo, dial 2 now. To hear a goodbye, dial 3. Finally, press pound to hang up.
    options: &opts
      - {press: "2", says: learn more about the demo, to: more_info}
      - {press: "3", says: hear a goodbye, to: goodbye}
      - {press: "#", says: hang up, to: goodbye}
  instruct:
    prompt: To learn more about the demo, dial 2 now. To hear a goodbye, dial 3. Finally, press pound to hang up.
    options: *opts
  more_info:
    prompt: The demo is an open source example of a phone menu. It runs on any computer.
    next: instruct
  goodbye:
    prompt: Goodbye, and thank you for trying the demo.
    line: {hangup_after: true}
"""


def test_an_announcement_that_runs_into_the_welcomes_ending_leads_to_one_menu_both_share(tmp_path: Path):
    path = tmp_path / "shared.yaml"
    path.write_text(SHARED_ENDING)
    ex = _crawl(path, {})
    welcome = ex.nodes[ex.root]
    assert welcome.kind == "message" and "Congratulations" in welcome.prompt  # the welcome's own head
    menu = ex.nodes[welcome.next or ""]
    assert menu.prompt.startswith("To learn more") and set(menu.outcomes) >= {"2", "3", "#"}
    more = ex.nodes[menu.outcomes["2"].to or ""]  # not a "repeat": the line said something new first
    assert "open source example" in more.prompt and more.next == menu.name
    assert compile_text(write_draft(ex, name="shared"), "shared.yaml").warnings == ()


def test_an_entry_with_no_your_is_named_by_what_it_asks_for():
    assert entry_subject("password") == "password"
    assert entry_subject("Comedian Mail. Mailbox?") == "mailbox"


def test_later_hearings_correct_what_a_word_error_made_of_a_prompt_and_a_key_heard_once_is_not_tried():
    from ivrnav.discover.explorer import Node

    ex = Explorer(values={"npi": "1467582930"})
    misheard = "Provider services. Please online your ten digit National Provider with, N P I, followed buy the pound."
    node = Node("npi_prompt", "message", [misheard, "Provider services. Please enter your ten digit National "
                                          "Provider Identifier, or N P I, followed by the pound sign."])
    menu = Node("members", "menu", ["Members, to find a doctor, press 1. four questions about a claim, press 2.",
                                    "Members, to find a doctor, press 1. For questions about a claim, press 2.",
                                    "Members, to find a doctor, press 1. For questions about a claim, press 2."])
    ex.nodes = {"npi_prompt": node, "members": menu}
    ex.root = "members"
    ex._refresh_frontier()
    assert node.kind == "entry" and node.entry_var == "npi"
    queued = {(f.node, f.key) for f in ex.queue}
    assert ("npi_prompt", ENTRY) in queued
    assert {k for n, k in queued if n == "members"} == {"1", "2"}  # no "14" from "press 1. four questions"
    assert kind_of("Provider services, my name Keisha. Can I have your N P I?", {}) == "human"
    assert kind_of("Operator, how can I direct your call?", {}) == "human"


def _bank_fragment(queue_hearing: str, agent_hearing: str) -> Explorer:
    """The bank's hold reached two ways: from the language menu (heard clearly) and from the fraud menu, first
    heard through word errors that hid that it was the same hold; and the person each hold led to."""
    from ivrnav.discover.explorer import Node, Outcome

    ex = Explorer()
    ex.nodes = {
        "language": Node("language", "menu", ["For English, press 1. To speak with a representative, press 0."],
                         outcomes={"0": Outcome("to", "queue"), "1": Outcome("to", "fraud")}),
        "fraud": Node("fraud", "menu", ["If your card was used without permission, press 2."], depth=1,
                      via=("language", "1"), outcomes={"2": Outcome("to", "queue_2")}),
        "queue": Node("queue", "hold", ["Please hold for the next available representative."], next="agent",
                      depth=1, via=("language", "0")),
        "agent": Node("agent", "human", ["Thanks for calling Acme Bank, my name is Dana. How can I help you today?"],
                      depth=2, via=("queue", "")),
        "queue_2": Node("queue_2", "hold", [queue_hearing], next="agent_2", depth=2, via=("fraud", "2")),
        "agent_2": Node("agent_2", "human", [agent_hearing], depth=3, via=("queue_2", "")),
    }
    ex.root = "language"
    return ex


def test_a_place_first_heard_through_word_errors_is_joined_to_the_known_one_when_a_later_hearing_tells():
    ex = _bank_fragment("Please hold four the and next available hear.",
                        "Thanks for Acme Bank, one name stolen. How I help calling hear?")
    ex._join_duplicates()
    assert {"queue_2", "agent_2"} <= set(ex.nodes)  # one noisy hearing each: not enough to tell
    ex.nodes["queue_2"].hearings.append("Please hold for uh next available representative.")  # the next call's route
    ex._join_duplicates()
    assert set(ex.nodes) == {"language", "fraud", "queue", "agent"}
    assert ex.nodes["fraud"].outcomes["2"].to == "queue" and ex.nodes["queue"].next == "agent"
    assert len(ex.nodes["queue"].hearings) == 3 and len(ex.nodes["agent"].hearings) == 2


def test_places_that_say_the_same_are_kept_apart_when_a_key_did_different_things_there_or_one_says_more():
    from ivrnav.discover.explorer import Node, Outcome

    # the bank asks for the account number on the way to the balances and on the way to an agent
    ex = Explorer()
    ex.nodes = {
        "main": Node("main", "menu", ["Main menu. For balances, press 1. For all other questions, press 0."],
                     outcomes={"1": Outcome("to", "account"), "0": Outcome("to", "verify")}),
        "account": Node("account", "entry", ["Please enter your ten digit account number, followed by the pound key."],
                        depth=1, via=("main", "1"), outcomes={ENTRY: Outcome("to", "pin")}),
        "verify": Node("verify", "entry", ["Please enter you ten digit account number, followed buy the pound."],
                       depth=1, via=("main", "0"), outcomes={ENTRY: Outcome("to", "queue")}),
        "pin": Node("pin", "entry", ["Now enter your four digit telephone banking PIN."], depth=2),
        "queue": Node("queue", "hold", ["Please hold for the next available representative."], depth=2),
    }
    ex.root = "main"
    ex.nodes["verify"].hearings.append("Please enter your ten digit account number, followed by the pound key.")
    ex._join_duplicates()
    assert set(ex.nodes) == {"main", "account", "verify", "pin", "queue"}
    # two menus that say the same: "*" said it again at one and led back to the main menu at the other
    ex.nodes["account"].kind = ex.nodes["verify"].kind = "menu"
    ex.nodes["account"].outcomes = {"*": Outcome("repeat")}
    ex.nodes["verify"].outcomes = {"*": Outcome("to", "main")}
    ex._checked.clear()
    ex._join_duplicates()
    assert {"account", "verify"} <= set(ex.nodes)
    # a hold that says what the other says, after a sentence of its own, is another hold
    ex = _bank_fragment("Employers, please hold. Please hold for the next available representative.",
                        "Thanks for calling Acme Bank, my name is Dana. How can I help you today?")
    ex._join_duplicates()
    assert {"queue", "queue_2"} <= set(ex.nodes)


def test_a_stray_hearing_does_not_join_templated_places_and_a_route_presses_an_announcements_key():
    from ivrnav.discover.explorer import Node, Outcome

    ex = Explorer()
    info = "Information about {} is available on our website. To return to the main menu, press 9."
    ex.nodes = {
        "welcome": Node("welcome", "menu", ["Thank 1 for calling."], waits=False, next="language",
                        outcomes={"1": Outcome("to", "main")}),
        "language": Node("language", "menu", ["For English, press 1."], outcomes={"1": Outcome("to", "main")}),
        "main": Node("main", "menu", ["For statements, press 4. For pharmacist questions, press 2."], depth=1,
                     outcomes={"4": Outcome("to", "statements"), "2": Outcome("to", "pharmacist")}),
        # a route that went astray left the pharmacist's words among the statements' hearings
        "statements": Node("statements", "menu", [info.format("statements")] * 2 + [info.format("reservations")],
                           depth=2, via=("main", "4"), label="statements"),
        "pharmacist": Node("pharmacist", "menu", [info.format("pharmacist questions")] * 2, depth=2,
                           via=("main", "2"), label="pharmacist questions"),
    }
    ex.root = "welcome"
    ex._join_duplicates()
    assert {"statements", "pharmacist"} <= set(ex.nodes)
    # templated places whose offers' words they do not say: two keys of one menu led to them, so two places;
    # and one's label said only by the other's boilerplate ("To return to the main menu") is no shared topic
    ex.nodes["returns"] = Node("returns", "menu", [info.format("returns and exchanges")], depth=2,
                               via=("statements", "1"), label="return an item")
    ex._join_duplicates()
    assert {"returns", "statements", "pharmacist"} <= set(ex.nodes)
    ex.nodes["gift"] = Node("gift", "menu", [info.format("gift cards")], depth=2, via=("pharmacist", "1"),
                            label="gift cards")
    ex._join_duplicates()
    assert {"gift", "returns"} <= set(ex.nodes)
    brief = "Information about {} is available on our website."
    ex.nodes["main"].outcomes.update({"1": Outcome("to", "trip"), "3": Outcome("to", "loyalty")})
    ex.nodes["trip"] = Node("trip", "message", [brief.format("reservations")], depth=2, via=("main", "1"),
                            label="book a trip")
    ex.nodes["loyalty"] = Node("loyalty", "message", [brief.format("rewards points")], depth=2, via=("main", "3"),
                               label="our loyalty club")
    ex._join_duplicates()
    assert {"trip", "loyalty", "returns", "statements", "pharmacist"} <= set(ex.nodes)
    # "Thank 1 for calling" offered "1" to the crawl; the welcome moves on by itself, but "1" pressed as it
    # ended led to the main menu: a route that way presses "1" there
    assert [step.keys for step in ex.steps_to("statements")] == ["1", "4"]


def test_a_crawl_at_telephone_word_error_rates_finds_each_hold_and_the_person_once():
    """At 15% WER the bank's hold is heard through other word errors on each way to it (the language menu, the
    fraud menu, an account number entered): still one hold, one person."""
    line = compile_file(BANK).menu_file
    ex = Explorer(values=BANK_VALUES, avoid=(), budget=Budget())
    crawl(ex, SimulatedCalls(line, wer=0.15, seed=1))
    holds = [n for n in ex.nodes.values() if n.kind == "hold"]
    assert sum("representative" in n.prompt for n in holds) == 1
    assert sum("specialist" in n.prompt for n in holds) == 1
    assert len(holds) == 2
    assert sum(n.kind == "human" for n in ex.nodes.values()) == 1


def test_the_draft_labels_an_option_only_with_words_its_prompt_says():
    from ivrnav.discover.explorer import Node, Outcome

    ex = Explorer()
    root = Node("main", "menu", ["For sales, press 1. For support, press 2.", "For sales, press 1. For support, "
                                 "press 2.", "For sales, press 1. press 3 for billing."])
    root.outcomes = {k: Outcome("to", f"leaf{k}") for k in "123"}
    ex.nodes = {"main": root, **{f"leaf{k}": Node(f"leaf{k}", "message", [f"You reached desk {k}."]) for k in "123"}}
    ex.root = "main"
    compiled = compile_text(write_draft(ex, name="labels"), "labels.yaml")
    assert compiled.warnings == ()  # "billing" was heard once, in a hearing the draft does not show
    options = {o.keys: o.says for o in compiled.menu_file.menus["main"].options}
    assert options["1"] and options["2"] and not options["3"]


MUSIC_QUEUE = """\
ivrnav: 1
name: Music queue
start: greeting
line: {hold: 30}
menus:
  greeting:
    prompt: Please hold while we try to connect you. You are currently caller number 2.
    next: hold1
  hold1: {prompt: "[music]", hold: true, next: announce}
  announce:
    prompt: All of our representatives are currently busy. Please stay on the line.
    next: hold2
  hold2: {prompt: "[music]", hold: true, next: agent}
  agent: {human: true, prompt: "Support, this is Dana speaking, how can I help you?"}
"""


def test_music_an_stt_writes_between_prompts_is_a_wordless_place_each_time_and_the_draft_folds_it_into_the_hold(
        tmp_path: Path):
    path = tmp_path / "music.yaml"
    path.write_text(MUSIC_QUEUE)
    ex = _crawl(path, {})
    chain, at = [], ex.root
    while at is not None:
        chain.append(ex.nodes[at])
        at = ex.nodes[at].next
    assert [n.kind for n in chain] == ["hold", "silent", "hold", "silent", "human"]  # two musics, not one loop
    compiled = compile_text(write_draft(ex, name="music"), "music.yaml")
    assert compiled.warnings == ()
    menus = compiled.menu_file.menus
    assert len(menus) == 3 and all(m.hold or m.human for m in menus.values())


def test_discovery_at_telephone_word_error_rates_still_maps_the_bank_menus(tmp_path: Path):
    line = compile_file(BANK).menu_file
    ex = Explorer(values=BANK_VALUES, avoid=(), budget=Budget())
    crawl(ex, SimulatedCalls(line, wer=0.15, seed=3))
    menus = [n for n in ex.nodes.values() if n.kind == "menu" and "credit card services" in n.prompt.lower()]
    assert menus and {"1", "2", "3", "0"} <= set(menus[0].outcomes)
    assert compile_text(write_draft(ex, name="noisy"), "noisy.yaml").warnings == ()


# ---------------------------------------------------------------------------------------------- ivrnav fix


def _swapped_bank(tmp_path: Path) -> Path:
    text = BANK.read_text().replace("For credit card services,\n      press 2. To report fraud, press 3.",
                                    "For credit card services,\n      press 3. To report fraud, press 2.")
    text = text.replace('{press: "2", says: credit card services, to: cards}',
                        '{press: "3", says: credit card services, to: cards}')
    text = text.replace('{press: "3", says: report fraud, to: fraud}', '{press: "2", says: report fraud, to: fraud}')
    path = tmp_path / "bank_moved.yaml"
    path.write_text(text)
    return path


def test_fix_moves_the_key_the_line_moved_keeping_the_files_comments_and_layout(tmp_path: Path):
    line = _swapped_bank(tmp_path)
    map_path = tmp_path / "bank.yaml"
    map_path.write_text(BANK.read_text())
    trace = tmp_path / "t.jsonl"
    run = CliRunner().invoke(main, ["run", str(map_path), "--line", str(line), "--goal", "lost_card",
                                    "--trace", str(trace)])
    assert run.exit_code == 0, run.output
    shown = CliRunner().invoke(main, ["fix", str(map_path), "--from", str(trace)])
    assert shown.exit_code == 0, shown.output
    assert '-      - {press: "2", says: credit card services, to: cards}' in shown.output
    assert '+      - {press: "3", says: credit card services, to: cards}' in shown.output
    assert map_path.read_text() == BANK.read_text()  # nothing written without --write
    assert CliRunner().invoke(main, ["fix", str(map_path), "--from", str(trace), "--write"]).exit_code == 0
    fixed = map_path.read_text()
    old_lines, new_lines = BANK.read_text().splitlines(), fixed.splitlines()
    changed = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
    assert len(changed) == 2  # the moved option and the sibling that held its new key; every other line kept
    again = simulate_call(compile_file(map_path).menu_file, line_file=compile_file(line).menu_file, goal="lost_card")
    assert again.result.reached and not [d for d in again.result.drift if d.kind == "key_moved"]


def test_fix_proposes_a_reworded_prompt_and_new_prompts_and_refuses_a_non_trace(tmp_path: Path):
    prompts = {"main": "Main menu. For account balances, press 1."}
    trace = tmp_path / "t.jsonl"
    records = [
        {"kind": "note", "note": "menu", "text": "main (by offers, 90% match)"},
        {"kind": "heard", "text": "We have changed our menu. For balances, press 1.", "final": True},
        {"kind": "note", "note": "press", "text": "1 for 'balances'"},
        {"kind": "result", "drift": [], "unrecognised": ["Our offices are closed on Fridays."]},
    ]
    trace.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    found = read_traces([trace], prompts)
    assert found.reworded == {"main": "We have changed our menu. For balances, press 1."}
    assert found.new_prompts == ["Our offices are closed on Fridays."]
    _old, new, changes = propose(BANK, found)
    assert "We have changed our menu." in new and "#     prompt: \"Our offices are closed on Fridays.\"" in new
    assert len(changes) == 2
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\n")
    res = CliRunner().invoke(main, ["fix", str(BANK), "--from", str(junk)])
    assert res.exit_code == 2 and "junk.jsonl:1" in res.output


TINY = """\
ivrnav: 1
name: Tiny clinic
start: main
menus:
  main:
    prompt: Thank you for calling the clinic. For appointments, press 1. For the pharmacy, press 2.
    options:
      - {press: "1", says: appointments, to: appointments}
      - {press: "2", says: pharmacy, to: pharmacy}
  appointments:
    prompt: Our appointment desk is open from nine to five. Goodbye.
    line: {hangup_after: true}
  pharmacy:
    prompt: The pharmacy is closed today. Goodbye.
    line: {hangup_after: true}
"""


def _tiny_crawl() -> tuple[MenuFile, Explorer]:
    """TINY's simulated line and its map, crawled with no extra keys."""
    line = compile_text(TINY, "tiny.yaml").menu_file
    ex = Explorer(values={}, avoid=(), try_keys="", budget=Budget(max_calls=8))
    crawl(ex, SimulatedCalls(line))
    return line, ex


def test_a_message_the_line_hangs_up_after_is_a_goal_the_draft_reaches_through_noise():
    """A leaf the line says and then hangs up ("... Goodbye.") is written with its words as the listen phrase and
    ``confirm: {hangup: true}``: navigating the draft there is reached when the line says it and hangs up (it
    used to end as a plain ``hangup`` failure)."""
    line, ex = _tiny_crawl()
    text = write_draft(ex, name="tiny")
    assert text.count("confirm: {hangup: true}") == 2
    draft = compile_text(text, "tiny-draft.yaml").menu_file
    leaves = [name for name, menu in draft.menus.items() if menu.confirm is not None and menu.confirm.hangup]
    assert len(leaves) == 2 and all(draft.menus[n].listen for n in leaves)
    for goal in leaves:
        for seed in range(3):
            call = simulate_call(draft, line_file=line, goal=goal, wer=0.15, seed=seed, keep_trace=False)
            assert call.result.reached, (goal, seed, call.result.reason, call.result.detail)
            assert call.line_visited[-1] in {"appointments", "pharmacy"}


def test_a_sound_mark_heard_inside_a_closing_message_stays_out_of_its_listen_phrase():
    """Seen on a real tree at 15% WER: "Sorry, that [ringing] not a option." as a listen phrase is a lint
    warning (it looks like a regex), so the draft failed `validate --strict`."""
    _line, ex = _tiny_crawl()
    leaf = next(n for n in ex.nodes.values() if n.hangs_up and n.kind == "message")
    leaf.hearings = ["The pharmacy is closed [ringing] today. Goodbye."]
    compiled = compile_text(write_draft(ex, name="tiny"), "tiny-draft.yaml")
    assert compiled.warnings == ()
    phrases = [p.text for m in compiled.menu_file.menus.values() for p in m.listen]
    assert "The pharmacy is closed today. Goodbye." in phrases and not any("[" in p for p in phrases)


def test_discovery_over_audio_hears_the_line_through_tts_stt_and_keys_as_tones(tmp_path: Path):
    """The probe runs unchanged on the audio path: Piper -> G.711 -> Whisper, keys as in-band DTMF."""
    from tests.parts import require_speech_models

    require_speech_models()
    from ivrnav.discover.crawl import AudioCalls

    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    line = compile_file(path).menu_file
    ex = Explorer(values={}, avoid=(), try_keys="", budget=Budget(max_calls=8))
    crawl(ex, AudioCalls(line))
    heard = " ".join(h.lower() for n in ex.nodes.values() for h in n.hearings)
    assert "appointment desk" in heard and "pharmacy is closed" in heard  # both branches reached by tones
    main_menu = ex.nodes[ex.root]
    assert {"1", "2"} <= {k for k, o in main_menu.outcomes.items() if o.kind == "to"}
    assert compile_text(write_draft(ex, name="tiny"), "tiny-draft.yaml").warnings == ()


def test_discovery_through_audio_hears_a_one_word_synthesised_prompt():
    """Asterisk's voicemail asks for the password with the one word "password". Spoken by Piper, Whisper judged
    its short window silent with a trimmed encoder context (no-speech 0.69), so the crawl mapped the login as
    a hang-up and found 1 of the line's 11 menus. The crawl now hears the password prompt behind the mailbox
    entry (seeded: the same audio every run)."""
    from tests.parts import require_speech_models

    require_speech_models()
    from bench.real import trees
    from ivrnav.discover.crawl import AudioCalls

    line = next(x for x in trees() if x.name == "asterisk_voicemail").line
    values = dict(line.line.vars)
    ex = Explorer(values=values, budget=Budget(max_calls=4))
    crawl(ex, AudioCalls(line, seed=1), secrets=list(values.values()))
    login = ex.nodes[ex.root]
    assert ENTRY in login.outcomes and login.outcomes[ENTRY].to, {n: x.hearings for n, x in ex.nodes.items()}
    behind = ex.nodes[login.outcomes[ENTRY].to]
    assert behind.kind == "entry" and any("password" in h.lower() for h in behind.hearings), behind.hearings


def test_the_discovery_benchmark_counts_a_claim_at_a_menu_no_caller_can_tell_from_the_goal_as_reached():
    from bench.discover import same_menu

    line = compile_file(ROOT / "bench" / "real" / "asterisk_demo.line.yaml").menu_file
    assert same_menu(line, "welcome", "instruct")  # the welcome says more first, then all of it, same keys
    assert not same_menu(line, "instruct", "welcome") and not same_menu(line, "goodbye", "instruct")


def test_the_discovery_benchmark_judges_a_draft_menu_by_where_the_line_was_when_the_crawl_heard_it():
    """The line's own record, not text likeness: a hearing the noise cut short is still the menu it was heard at,
    one that ran on into the next menu stands for both, and a sentence said before a menu began is not it."""
    from bench.discover import Truth

    truth = Truth()
    entered = [("main", 0.0), ("queue", 10.0), ("agent", 20.0)]
    trace = [{"kind": "heard", "text": "For billing, press 1.", "final": True, "start": 1.0, "end": 3.0},
             {"kind": "heard", "text": "Please hold for the", "final": False, "start": 11.0, "end": 12.0},
             {"kind": "heard", "text": "Please hold for the next available", "final": True, "start": 11.0, "end": 13.0},
             {"kind": "heard", "text": "This is Dana.", "final": True, "start": 19.9, "end": 21.5}]  # STT a bit early
    truth.add(trace, entered)
    assert truth.of(["Please hold for the next available"]) == {"queue"}
    assert truth.of(["Please hold for the next available This is Dana."]) == {"queue", "agent"}
    assert truth.of(["For billing, press 1."]) == {"main"} and truth.of(["Please hold"]) == set()
    assert truth.of(["Please hold for the operator"]) == set()  # an interim transcript is no sentence the line said


def test_an_entry_the_line_calls_incorrect_is_entered_again_ended_with_pound():
    """Asterisk's agent login, its prompt heard as Whisper heard Allison Smith say it ("followed by the pan key"),
    so the crawl enters the number without "#". The line says "Login incorrect." and asks again: a refusal,
    so the crawl ends the entry with "#" and gets to the password, not a new agent-number menu."""
    text = (ROOT / "bench" / "real" / "asterisk_agent_login.line.yaml").read_text()
    text = text.replace("prompt: Agent login. Please enter your agent number followed by the pound key.",
                        "prompt: Agent login. Please enter your agent number followed by the pan key.")
    line = compile_text(text, "agent_login.yaml").menu_file
    ex = Explorer(values=dict(line.line.vars), budget=Budget(max_calls=10))
    crawl(ex, SimulatedCalls(line), secrets=list(line.line.vars.values()))
    login = ex.nodes[ex.root]
    assert login.terminated and login.messages.get("invalid", "").startswith("Login incorrect")
    behind = ex.nodes[login.outcomes[ENTRY].to]
    assert "password" in behind.prompt.lower()
    assert sum(n.kind == "entry" and "agent number" in n.prompt for n in ex.nodes.values()) == 1
