"""Reading "press N for X" offers out of transcripts: the cue styles and mishearings of real prompts."""

from __future__ import annotations

from ivrnav.navigate.offers import read_offers, stream_tokens


def offers(*texts: str, final: bool = True) -> list[tuple[str, str, bool]]:
    return [(o.key, o.text, o.certain) for o in read_offers(stream_tokens(list(texts)), final_tail=final)]


def keys(*texts: str) -> dict[str, str]:
    return {o.key: o.text for o in read_offers(stream_tokens(list(texts)))}


def test_multi_digit_key_after_dial_is_one_key():
    assert keys("To execute an echo test dial 600.") == {"600": "execute an echo test"}


def test_extension_word_between_dial_and_the_key():
    assert keys("To check voice mail for the user dial extension 8500.") == {"8500": "check voice mail for the user"}


def test_digits_spoken_one_by_one_are_one_key():
    assert keys("Enter 1 2 3 4 to confirm.") == {"1234": "confirm"}
    assert keys("Press one zero zero six for the front desk.") == {"1006": "front desk"}


def test_digit_runs_longer_than_a_key_are_not_offers():
    assert keys("Press 1 2 3 4 5 6 to continue.") == {}


def test_filler_between_press_and_key():
    assert keys("Press um 4 for billing.") == {"4": "billing"}
    assert keys("For billing, press uh 4.") == {"4": "billing"}


def test_dropped_press_does_not_mix_neighbouring_labels():
    # "To hear about X, [press] three. For other options, press four." with the first "press" lost
    got = offers("To hear about billing, three for other options, press four.")
    assert [(k, t) for k, t, _ in got] == [("3", "hear about billing"), ("4", "other options")]
    assert got[0][2] is False  # inferred without a press word: not enough to believe a moved key
    assert got[1][2] is True


def test_bare_keys_after_a_press_key_first():
    got = offers("For S A M E code subscriptions, press 1 to add a code, 2 to remove a code, or 3 to list your codes.")
    assert [(k, t) for k, t, _ in got] == [("1", "add a code"), ("2", "remove a code"), ("3", "list your codes")]


def test_or_n_to_x():
    assert keys("press 1 to accept this call, or 2 to reject it") == {"1": "accept this call", "2": "reject it"}


def test_n_or_m_does_not_leak_into_the_previous_label():
    got = keys("Please press 1 to mute or unmute yourself, 4 or 6 to decrease or increase the conference volume, "
               "or 8 to exit.")
    assert got["1"] == "mute or unmute yourself"
    assert got["8"] == "exit"


def test_label_first_with_a_trailing_alternative():
    assert keys("For sales press 1 for service press 2 or stay on the line.") == {"1": "sales", "2": "service"}


def test_speech_alternative_is_not_a_label():
    assert keys("Press 1 for balances or say balances.") == {"1": "balances"}


def test_label_first_still_reads_while_interim():
    words = stream_tokens(["For English press 1 para espanol"])[:-1]  # an interim utterance has not ended
    assert [(o.key, o.text) for o in read_offers(words, final_tail=False)] == [("1", "english")]


def test_key_homophone_is_uncertain():
    assert offers("For billing, press to.") == [("2", "billing", False)]
    # Whisper on a telephone line writes "star" as "Start" (Twilio's phone-tree sample, heard through audio)
    assert offers("To go back to the main menu, press the Start key.") == [("*", "go back to the main menu", False)]


def test_numbers_inside_sentences_are_not_offers():
    assert keys("The sample configuration also has a single user with extension 1234 and password 4242.") == {}
    assert keys("Refunds take 2 to 3 business days.") == {}


def test_unpunctuated_stream_stays_label_first():
    # Whisper over LiveKit: no punctuation, the last label's key not said yet
    got = keys("main menu for account balances and recent transactions press 1 for credit card services press 2 "
               "to report fraud press 3 for all other questions")
    assert sorted(got) == ["1", "2", "3"]
    assert got["1"].endswith("account balances and recent transactions")
    assert got["2"] == "credit card services" and got["3"] == "report fraud"


def test_a_preamble_before_a_key_first_offer_is_not_its_label():
    assert keys("Finally, you can press the pound key to disconnect from the PBX.") == {"#": "disconnect from the pbx"}
    assert keys("Welcome to Acme press 1 for sales.") == {"1": "sales"}
    assert keys("For sales press 1 to be connected.") == {"1": "sales"}  # a cue opens the label


def test_a_cue_heard_as_a_digit_after_the_key_is_not_part_of_it():
    assert keys("Press 1 four coverage questions.") == {"1": "coverage questions"}
    assert keys("Press 3 two listen to a song.") == {"3": "listen to a song"}
    assert keys("To execute an echo test dial 600.") == {"600": "execute an echo test"}
    assert keys("Dial 8500 to enter the voicemail system.") == {"8500": "enter the voicemail system"}
    assert keys("Press 1 2 for sales.") == {"12": "sales"}  # a cue follows: the run is the key


def test_an_offer_the_stt_split_at_the_pause_before_its_key_is_one_offer():
    assert keys("For technical support,", "press 2.") == {"2": "technical support"}
    assert keys("Main menu. For billing, press 1. For sales", "please press 3 now.") == {"1": "billing", "3": "sales"}


def test_only_a_label_and_a_finished_bare_key_are_joined():
    # the key was said but misheard ("press return"): the next sentence's key is another offer's
    assert keys("To track your baggage, press return.", "For press 6.") == {}
    # "press 2" is still being said and goes on "for store hours": not yet a key of its own
    still_spoken = [*stream_tokens(["To review a security alert,"]), "press", "2"]  # an interim has no end mark
    assert read_offers(still_spoken, final_tail=False) == []
    # a sentence with a key of its own after the label is key first, not a key for the label before it
    assert keys("For sales.", "Press 1 for service.") == {"1": "service"}


def test_a_time_or_the_end_of_a_range_at_a_sentence_end_is_no_key():
    """"For sales, 2." offers 2 without a press word; "open from nine to five." offers nothing (the crawler
    took the appointment desk's closing message for a menu offering 5 and never saw that it hangs up)."""
    assert keys("For sales, 2.") == {"2": "sales"}
    assert keys("Our appointment desk is open from nine to five. Goodbye.") == {}
    assert keys("We are open Monday to Friday, 8 until 5.") == {}
    assert keys("The office closes at 6.") == {}
    assert keys("Between 1 and 3.") == {}
