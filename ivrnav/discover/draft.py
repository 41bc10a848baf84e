"""The discovered map as a draft menu file: valid YAML in the menu language, with comments for a person.

Strings are written as JSON strings (valid YAML double-quoted scalars), so no prompt the line said can
break the file. Comments say how sure each part is and what was not explored, so an author knows where
to look. Var values given for entries are never written: only the var's name and description.
"""

from __future__ import annotations

import json

from rapidfuzz import fuzz

from ivrnav.discover.explorer import ENTRY, SAY, Explorer, Node, Outcome, name_for, unique
from ivrnav.discover.observe import SOUND_MARK, offers_in
from ivrnav.discover.phrases import distinctive_phrases
from ivrnav.menu.lint import SIMILAR_SAYS
from ivrnav.text import normalise

SILENT_CONFIRM = 4.0  # seconds of quiet after the key that confirm a silent menu in the draft


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def display_names(ex: Explorer) -> dict[str, str]:
    """Names for the draft, from the final (voted) labels rather than the first noisy hearing."""
    names: dict[str, str] = {}
    ordered = _in_route_order(ex)
    first_menu = next((n.name for n in ordered if n.kind == "menu"), None)
    for node in ordered:
        label = ""
        if node.via and node.via[1] and node.via[1] != ENTRY and node.via[0] in ex.nodes:
            label = ex.nodes[node.via[0]].offers.get(node.via[1], "")
        base = name_for(node.prompt, node.kind, label, first=node.name == ex.root, taken=set(names.values()),
                        first_menu=node.name == first_menu)
        names[node.name] = unique(base, set(names.values()))
    return names


def goal_of(ex: Explorer) -> str | None:
    """A person if the crawl met one, else a hold (a queue for one), else nothing."""
    for kind in ("human", "hold"):
        found = next((n.name for n in ex.nodes.values() if n.kind == kind), None)
        if found:
            return found
    return None


def write_draft(ex: Explorer, *, name: str, phone: str | None = None, stopped: str | None = None) -> str:
    if ex.root is None:
        raise ValueError("nothing was discovered: the first call heard no prompt")
    lines = [
        f"# Draft menu file written by `ivrnav discover` from {ex.calls} calls "
        f"({ex.line_seconds / 60:.1f} min of line time, {ex.failed_calls} failed).",
        "# Prompts are as heard (the most typical of several hearings); `says` labels are the line's offers.",
        "# Check the prompts, rename the menus, choose the goal, and mark secret vars before you rely on it.",
    ]
    if stopped:
        lines.append(f"# The crawl stopped early: {stopped}; {len(ex.queue)} keys were left to try.")
    lines += ["ivrnav: 1", f"name: {_q(name)}"]
    if phone:
        lines.append(f"phone: {_q(phone)}")
    names = display_names(ex)
    goal = goal_of(ex)
    if goal:
        lines.append(f"goal: {names[goal]}")
    entries = {n.entry_var: n for n in ex.nodes.values() if n.kind == "entry" and n.entry_var}
    if entries:
        lines.append("vars:")
        for var, node in sorted(entries.items()):
            asked = node.prompt[:80]
            lines.append(f"  {var}: {{secret: true, description: {_q('asked as: ' + asked)}}}"
                         "  # secret by default: entries are usually account numbers and PINs")
    lines += [f"start: {names[ex.root]}", "menus:"]
    # each node's prompt (the best of its hearings) once: every menu's listen phrases are weighed against them all
    spoken = {n.name: n.prompt for n in ex.nodes.values() if n.kind != "silent"}
    for node in _in_route_order(ex):
        lines += _menu(ex, node, names, spoken)
    return "\n".join(lines) + "\n"


def _in_route_order(ex: Explorer) -> list[Node]:
    seen: list[str] = []
    todo = [ex.root]
    while todo:
        name = todo.pop(0)
        if name is None or name in seen or name not in ex.nodes:
            continue
        seen.append(name)
        options, nxt = links(ex.nodes[name], ex)
        todo += [nxt] + [o.to for _, o in options if o.kind == "to"]
    return [ex.nodes[n] for n in seen]


def quiet_after(node: Node, ex: Explorer) -> Node | None:
    """The quiet an announcement or a hold runs into ("Agent logged in." then music): the draft writes the two
    as one menu, recognised by the words and staying there (the quiet alone gives nothing to recognise)."""
    after = ex.nodes.get(node.next or "")
    # a hold's music is the hold itself, also when the line moves on from it (to a person, another message)
    if node.kind in ("message", "hold") and after is not None and after.kind == "silent" and not after.hangs_up \
            and after.via == (node.name, "") and (after.next is None or node.kind == "hold"):
        return after
    return None


def links(node: Node, ex: Explorer) -> tuple[list[tuple[str, Outcome]], str | None]:
    """The options and the ``next`` the draft writes for a node: what the menu language can say of it.

    An entry's or a speech prompt's ``next`` is where the line goes after the entry or the words (a line
    that moved on from such a prompt by itself cannot be said); holds, people and silences take no keys."""
    quiet = quiet_after(node, ex)
    if quiet is not None:  # the keys that led on from the quiet are the announcement's options
        return [(k, o) for k, o in quiet.outcomes.items() if o.kind == "to"], quiet.next
    if node.kind in ("entry", "speech"):
        done = node.outcomes.get(ENTRY if node.kind == "entry" else SAY)
        return [], done.to if done is not None and done.kind == "to" else None
    if node.kind == "human" or (node.kind == "silent" and node.hangs_up):
        return [], None
    if node.kind == "silent":  # keys that led on from the quiet (an echo test's "#"), or where music moved on to
        return [(k, o) for k, o in node.outcomes.items() if o.kind == "to"], node.next
    # an unoffered key that only replays the menu is how the line treats any bad key: not an option
    options = [] if node.kind == "hold" else [
        (k, o) for k, o in node.outcomes.items() if k not in (ENTRY, SAY) and o.kind in ("to", "repeat")
        and not (o.kind == "repeat" and k in node.unoffered)]
    return options, node.next


def _distinct_labels(node: Node, keys: list[str]) -> dict[str, str]:
    """Offer labels for the draft's options, where no two sound alike (lint's ``confusable``): when two keys
    carry one label, one of them is a misheard key; the label stays with the key heard more often."""
    offers, votes = dict(node.offers), node.key_votes()
    ranked = sorted((k for k in keys if offers.get(k)), key=lambda k: (-votes.get(k, 0), keys.index(k)))
    kept: list[str] = []
    for key in ranked:
        if any(fuzz.ratio(normalise(offers[key]), normalise(offers[k])) >= SIMILAR_SAYS for k in kept):
            offers[key] = ""
        else:
            kept.append(key)
    return offers


LISTENED_KINDS = frozenset({"menu", "message", "entry", "speech", "hold"})  # a person's words differ every call


def _listen_phrases(node: Node, spoken: dict[str, str]) -> list[str]:
    if node.kind not in LISTENED_KINDS:
        return []
    return distinctive_phrases(spoken[node.name], node.hearings, [p for n, p in spoken.items() if n != node.name])


def _menu(ex: Explorer, node: Node, names: dict[str, str], spoken: dict[str, str]) -> list[str]:
    hearings = len(node.hearings)
    confidence = f"heard {hearings} time{'s' if hearings != 1 else ''}"
    if hearings > 1:
        confidence += f", hearings agree {node.agreement():.0f}%"
    if node.via:
        source = names.get(node.via[0], node.via[0])
        confidence += f"; reached with {node.via[1] or 'no key'} at {source}" if node.via[1] != ENTRY else \
            f"; reached by the entry at {source}"
    if node.kind == "silent" and node.hangs_up:
        return [f"  {names[node.name]}:", "    # the line ended the call at once", f"    prompt: {_q('(no words)')}",
                "    confirm: {hangup: true}", "    line: {hangup: true}"]
    if node.kind == "silent":
        # nothing to recognise: a goal here is confirmed by the line taking the key and staying quiet
        out = [f"  {names[node.name]}:", f"    # the line said nothing for {SILENT_CONFIRM:g}+ s here "
               "(music, ringing, an echo test or a transfer?)", f"    prompt: {_q('(no words)')}",
               f"    confirm: {{quiet: {SILENT_CONFIRM:g}}}"]
        options, nxt = links(node, ex)
        if options:
            out.append("    options:")
            out += [f"      - {{press: {_q(k)}, to: {names[o.to or '']}}}" for k, o in options if o.kind == "to"]
        if nxt:
            out.append(f"    next: {names[nxt]}  # the line moved on by itself")
        elif not options:
            out.append("    line: {terminal: true}  # nothing was found beyond this quiet")
        return out
    out = [f"  {names[node.name]}:", f"    # {confidence}", f"    prompt: {_q(node.prompt)}"]
    options, nxt = links(node, ex)
    leaf = not any(o.kind == "to" for _, o in options) and not nxt and node.kind not in ("human", "hold")
    listen = _listen_phrases(node, spoken)
    if leaf and node.hangs_up and node.kind == "message":
        # a goal here is reached when the line says its words (or nothing) and hangs up after the keys to it:
        # the hang-up rule asks for the goal's listen phrases, and the words heard are that
        said = " ".join(SOUND_MARK.sub(" ", spoken[node.name]).split())  # "[ringing]" heard inside is no word
        listen = [said, *listen] if said else listen
    if listen:
        out.append(f"    listen: [{', '.join(map(_q, listen))}]")
    if node.kind == "human":
        out.append("    human: true")
    elif node.kind == "hold":
        out.append("    hold: {max: 1200}")
    elif node.kind == "entry" and node.entry_var:
        template = _q("{" + node.entry_var + "}" + ("#" if node.terminated else ""))
        crossed = ENTRY in node.outcomes and node.outcomes[ENTRY].kind == "to"
        out.append(f"    enter: {template}" if crossed else f"    # enter: {template}  (not crossed: no value given)")
        if node.messages.get("invalid"):
            out.append(f"    invalid: [{_q(node.messages['invalid'])}]")
    if node.kind == "speech" and SAY in node.outcomes and node.outcomes[SAY].kind == "to" and node.say:
        out.append(f"    say: {_q(node.say)}  # the prompt's own example; say what you need")
    offers = _distinct_labels(node, [k for k, _ in options])
    # a label voted from other hearings that the prompt written here does not say would be a lint warning
    # ("says ..., but the prompt never says that"): the draft's prompt and its labels must agree
    said = offers_in(node.prompt)
    offers = {k: label if k in said else "" for k, label in offers.items()}
    if options and node.kind not in ("human", "hold", "entry"):
        out.append("    options:")
        for key, outcome in options:
            says = offers.get(key, "")
            parts = [f"press: {_q(key)}"]
            if says:
                parts.append(f"says: {_q(says)}")
            parts.append("repeat: true" if outcome.kind == "repeat" else f"to: {names[outcome.to or '']}")
            out.append("      - {" + ", ".join(parts) + "}")
    if nxt and (node.kind != "menu" or not options or not node.waits):
        out.append(f"    next: {names[nxt]}")
    elif nxt:
        out.append(f"    next: {names[nxt]}  # the line moves on by itself when no key is pressed")
    for key, outcome in node.outcomes.items():
        if key in node.unoffered and outcome.kind != "to":
            continue  # an unsaid key tried on the off chance: only worth a line when it leads somewhere
        if outcome.kind == "invalid":
            out.append(f"    # key {key}: the line refused it ({outcome.detail[:70]!r})")
        elif outcome.kind in ("failed", "hangup"):
            out.append(f"    # key {key}: not mapped ({outcome.kind}: {outcome.detail[:70]})")
    for key, why in node.skipped.items():
        label = offers.get(key, "")
        what = "the entry" if key == ENTRY else "speech" if key == SAY else f"key {key}" + (
            f" ({label!r})" if label else "")
        out.append(f"    # not explored: {what}: {why}")
    if leaf:
        if node.hangs_up:
            out += ["    confirm: {hangup: true}"] if node.kind == "message" else []
            out.append("    line: {hangup_after: true}  # the line said this, then ended the call")
        else:
            out.append("    line: {terminal: true}  # nothing was found beyond this prompt")
    for kind in ("timeout",):
        if node.messages.get(kind):
            out.append(f"    # on no input the line said: {node.messages[kind][:80]!r}")
    return out
