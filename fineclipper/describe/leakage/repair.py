"""The repair rules: each finds one place where a gap left the sentence broken, changes it and returns True;
:func:`repair_sentence` applies them until none applies, then drops the gaps left and tidies the punctuation."""

from __future__ import annotations

import re

from .tokens import Gap, is_gap, is_possessive, is_word, low
from .words import (
    ADJECTIVE_SHAPE,
    AUXILIARIES,
    BARE_SUBJECTS,
    BODY_NOUNS,
    CLAUSE_PUNCT,
    CLAUSE_STARTERS,
    COMPLEMENT_PREPOSITIONS,
    CONNECTORS,
    CONVEYING,
    COORDINATORS,
    DANGLING_TAIL,
    DEGREE,
    DETERMINERS,
    EMOTION_HEADS,
    EVIDENT,
    FRONTED,
    INTRODUCERS,
    IRREGULAR_PAST,
    LINKING,
    LOOK_DIRECTIONS,
    NOT_ADJECTIVES,
    NOT_PARTICIPLES,
    NOUN_MODIFIERS,
    OF_NOUNS,
    OPENERS,
    PARTICLES,
    PHRASAL_VERBS,
    PREPOSITIONS,
    PRONOUNS,
    SUBORDINATORS,
)


def absorb_modifiers(tokens: list) -> bool:
    """Degree adverbs and qualifying adjectives go with the emotion word they qualify."""
    for i, tok in enumerate(tokens):
        if not is_gap(tok) or i == 0:
            continue
        before = low(tokens[i - 1])
        modifiers = NOUN_MODIFIERS if is_gap(tok, nominal=True) else DEGREE
        verb_before = i > 1 and before not in DEGREE and low(tokens[i - 2]) in BODY_NOUNS | LINKING
        if before in modifiers and not verb_before:  # not "her cheeks rising [smile]"
            del tokens[i - 1]
            return True
        if before in ("bit", "little", "touch") and i > 1 and low(tokens[i - 2]) == "a":
            del tokens[i - 2:i]
            return True
        if (is_gap(tok, nominal=True) and i > 1 and ADJECTIVE_SHAPE.search(before or "")
                and (low(tokens[i - 2]) in DETERMINERS or (low(tokens[i - 2]),) in PREPOSITIONS)):
            del tokens[i - 1]  # "with undisguised [hatred]", "a classic [sorrow]"
            return True
    return False


def merge_gaps(tokens: list) -> bool:
    """Adjacent gaps, and gaps joined by "and"/"or" (a list of emotions), become one."""
    for i in range(len(tokens) - 1):
        if is_gap(tokens[i]) and is_gap(tokens[i + 1]):
            pair = (tokens[i], tokens[i + 1])  # "[joyful] [smile]" is a noun, "[grins] [happily]" a verb
            head = next((g for g in pair if g.pos == "verb"),
                        tokens[i] if tokens[i + 1].pos == "adv" else tokens[i + 1])
            tokens[i:i + 2] = [Gap(head.pos, tokens[i].listed or tokens[i + 1].listed, head.word)]
            return True
        if not is_gap(tokens[i]):
            continue
        for joiner in (("and",), ("or",), (",", "and"), (",", "or"), ("and", "even"), ("or", "even"),
                       ("or", "perhaps"), ("and", "perhaps"), ("if", "not"), ("but", "also")):
            j = i + 1 + len(joiner)
            if tuple(low(x) for x in tokens[i + 1:j]) == joiner and j < len(tokens) and is_gap(tokens[j]):
                tokens[i:j + 1] = [Gap(tokens[j].pos, listed=True)]
                return True
        if low(tokens[i + 1]) == "," and i + 2 < len(tokens) and is_gap(tokens[i + 2]) and tokens[i + 2].listed:
            tokens[i:i + 3] = [Gap(tokens[i + 2].pos, listed=True)]
            return True
    return False


def absorb_noun_phrase(tokens: list) -> bool:
    """An emotion noun takes its article, its "a sense of" and its preposition; "a fearful expression"
    is an emotion noun phrase as a whole."""
    for i, tok in enumerate(tokens):
        if not is_gap(tok) or tok.pos == "verb":
            continue
        if (tok.pos == "adj" and i and (low(tokens[i - 1]) in DETERMINERS or (low(tokens[i - 1]),) in PREPOSITIONS)
                and (is_right_boundary(tokens, i + 1) or (low(tokens[i + 1]),) in PREPOSITIONS)
                and not adjective_list(tokens, i)):
            tok.pos = "noun"  # "a deep [melancholy].", "from [neutral] to [angry]"
            return True
        if not is_gap(tok, nominal=True):
            if i + 1 < len(tokens) and low(tokens[i + 1]) in EMOTION_HEADS:
                tokens[i:i + 2] = [Gap("noun")]
                return True
            continue
        before = low(tokens[i - 1]) if i else None
        if leads_list(tokens, i):
            continue  # "with [fear] and tension": the list keeps its article and preposition
        if (before in DETERMINERS and i > 1 and (low(tokens[i - 2]),) in PREPOSITIONS and i + 2 < len(tokens)
                and low(tokens[i + 1]) in COORDINATORS and low(tokens[i + 2]) in DETERMINERS):
            del tokens[i - 1:i + 2]  # "with a [scowl] and a clenched jaw" -> "with a clenched jaw"
            return True
        if before in DETERMINERS or (i and is_possessive(tokens[i - 1])):
            del tokens[i - 1]
            return True
        if before == "of" and i > 1 and low(tokens[i - 2]) in OF_NOUNS:
            start = i - 2
            for k in range(i - 3, max(i - 6, -1), -1):  # "a telltale sign of": its article and adjectives
                word = low(tokens[k])
                if word in DETERMINERS:
                    start = k
                if not is_word(tokens[k]) or word in NOT_ADJECTIVES or (word,) in PREPOSITIONS:
                    break
            del tokens[start:i]
            return True
        for prep in PREPOSITIONS:
            n = len(prep)
            if i >= n and tuple(low(x) for x in tokens[i - n:i]) == prep:
                if prep in (("as",), ("like",)) and not is_right_boundary(tokens, i + 1):
                    break  # "as [anger] builds": "as" opens a clause
                del tokens[i - n:i]
                return True
    return False


def adjective_list(tokens: list, i: int) -> bool:
    """Whether the gap at ``i`` is followed by ", " and another adjective ("a [happy], open smile")."""
    if i + 2 >= len(tokens) or tokens[i + 1] != "," or not is_word(tokens[i + 2]):
        return False
    follower = low(tokens[i + 2])
    return not (is_clause_start(tokens, i + 2) or follower in OPENERS | COORDINATORS
                or (follower,) in PREPOSITIONS or follower.endswith("ing"))


def looks_finite(word: str) -> bool:
    """A present-tense verb by its shape ("shifts", "covers"; not "nervous" or "tension")."""
    return re.search(r"[^su]s$", word) is not None and word not in BODY_NOUNS


def leads_list(tokens: list, i: int) -> bool:
    """Whether the gap at ``i`` is followed by "and"/"or" and a word that stays in its list (for a
    noun: not a verb that goes on the sentence, as in "in [disbelief] and covers his face")."""
    if i + 2 >= len(tokens) or low(tokens[i + 1]) not in COORDINATORS or not is_word(tokens[i + 2]):
        return False
    follower = low(tokens[i + 2])
    return (not is_clause_start(tokens, i + 2) and follower not in OPENERS
            and not (is_gap(tokens[i], nominal=True) and looks_finite(follower)))


def complement(tokens: list) -> bool:
    """What the emotion was about goes with it: "scared [of something]", "fear [of heights]"."""
    for i, tok in enumerate(tokens):
        if not is_gap(tok) or i + 1 >= len(tokens) or tok.pos == "adv":
            continue
        after = low(tokens[i + 1])
        looking = i and low(tokens[i - 1]).startswith("look") and after in LOOK_DIRECTIONS  # "looks [angrily] at"
        if after == "of" or (tok.pos == "adj" and after in COMPLEMENT_PREPOSITIONS and not looking):
            del tokens[i + 1:clause_end(tokens, i + 1)]
            return True
    return False


def is_clause_start(tokens: list, i: int) -> bool:
    return i < len(tokens) and (low(tokens[i]) in CLAUSE_STARTERS or is_possessive(tokens[i]))


def is_right_boundary(tokens: list, i: int) -> bool:
    """Whether a clause ends before ``tokens[i]``."""
    if i >= len(tokens):
        return True
    word = low(tokens[i])
    return (tokens[i] in CLAUSE_PUNCT or word in OPENERS
            or (word in COORDINATORS and is_clause_start(tokens, i + 1)))


def coordination(tokens: list) -> bool:
    """A removed adjective or noun leaves its list: "happy and relaxed" -> "relaxed"."""
    for i, tok in enumerate(tokens):
        if not is_gap(tok) or tok.pos == "adv":
            continue
        before, after = (low(tokens[i - 1]) if i else None), (low(tokens[i + 1]) if i + 1 < len(tokens) else None)
        # "shows a [frown], tight lips, and lowered brows" -> "shows tight lips and lowered brows"
        if tok.pos == "noun" and (rest := rest_of_list(tokens, i)) is not None:
            if rest[0] == 1:
                del tokens[rest[1] - 1]  # the comma before "and" goes with a list of two left
            del tokens[i - (before in DETERMINERS):i + 2]
            return True
        # "looks [happy] and relaxed", "a [happy] and relaxed smile", "with [fear] and tension"
        if leads_list(tokens, i) and (tok.pos == "adj" and is_word(tokens[i - 1]) and before not in PRONOUNS
                                  or before in DETERMINERS
                                  or before in LINKING or before in CONVEYING or (before,) in PREPOSITIONS):
            follower = low(tokens[i + 2])
            if before in LINKING and looks_finite(follower):  # "seems [nervous] and shifts ..."
                del tokens[verb_chain_start(tokens, i - 1):i + 2]
            else:
                del tokens[i:i + 2]
            return True
        # "feeling [sad], contemplative", "is not [angry], just focused"
        listed = tokens[i + 2:clause_end(tokens, i + 2)] if after == "," and i + 2 < len(tokens) else []
        if (before in LINKING and 0 < len(listed) <= 2 and all(map(is_word, listed))
                and not is_clause_start(tokens, i + 2) and low(tokens[i + 2]) not in OPENERS | COORDINATORS
                and (low(tokens[i + 2]),) not in PREPOSITIONS and not re.search(r"...ing$", low(tokens[i + 2]))):
            del tokens[i:i + 2]
            if tokens[i + 1:i + 2] == [","] and low(tokens[i + 2] if i + 2 < len(tokens) else "") in COORDINATORS:
                del tokens[i + 1]  # "is relaxed, and smiling" -> "is relaxed and smiling"
            return True
        # "contemplative, or [disappointed]."; "a slight upturned mouth, relaxed eyebrows, and [a slight smile]"
        # -> "a slight upturned mouth, and relaxed eyebrows": the conjunction moves to the last item left,
        # as in the paper's Fig. 3
        end = predicate_end(tokens, i) if tok.pos == "verb" else i + 1  # "nods, blinks, and [frowns] slightly"
        if before in COORDINATORS and i > 1 and tokens[i - 2] == "," and is_right_boundary(tokens, end):
            coordinator, item = tokens[i - 1], last_list_item(tokens, i - 2)
            del tokens[i - 2:end]
            if item is not None:
                tokens.insert(item, coordinator)
            return True
        # "tense, [anxious] and tired", "tense, [anxious], and tired"
        if before == "," and after in COORDINATORS and i + 2 < len(tokens) and not is_clause_start(tokens, i + 2):
            del tokens[i - 1:i + 1]
            return True
        # "nods and [laughs] at the joke"
        if before in COORDINATORS and i > 1 and is_word(tokens[i - 2]) and tok.pos == "verb":
            del tokens[i - 1:predicate_end(tokens, i)]
            return True
        # "relaxed and [happy]", "with pain and [disgust] in his eyes"
        if before in COORDINATORS and i > 1 and is_word(tokens[i - 2]):
            follows = tokens[i + 1] if i + 1 < len(tokens) else None
            ends = follows is None or follows in CLAUSE_PUNCT or is_right_boundary(tokens, i + 1)
            if ends or (is_word(follows) and (not is_gap(tok, nominal=True)
                                               or (after,) in PREPOSITIONS)):
                del tokens[i - 1:i + 1]
                if (item := last_list_item(tokens, i - 1)) is not None:
                    tokens[item - 1] = "and"  # "tense, tired and [sad]" -> "tense and tired"
                return True
    return False


def last_list_item(tokens: list, comma: int) -> int | None:
    """Where the list item that ends at ``tokens[comma]`` begins, if another item and a comma come before it
    ("a slight upturned mouth, [relaxed eyebrows],"); None if it is no such item."""
    k = comma - 1
    while k > 0 and is_word(tokens[k]) and low(tokens[k]) not in COORDINATORS | OPENERS | LINKING | AUXILIARIES:
        k -= 1
    if tokens[k] != "," or not 1 <= comma - k - 1 <= 4 or not is_word(tokens[k - 1]):
        return None
    return k + 1


def rest_of_list(tokens: list, i: int) -> tuple[int, int] | None:
    """For a gap at ``tokens[i]`` that leads a list of words ("[a frown], tight lips, and lowered brows"): the
    number of commas after its own and the index of the list's "and"/"or"; None if it leads no such list."""
    if i + 1 >= len(tokens) or tokens[i + 1] != "," or is_clause_start(tokens, i + 2):
        return None
    commas, k = 0, i + 2
    while k < len(tokens) and k - i <= 10 and (is_word(tokens[k]) or tokens[k] == ","):
        word = low(tokens[k])
        if word in COORDINATORS:
            listed = k > i + 3 and k + 1 < len(tokens) and is_word(tokens[k + 1]) and not is_clause_start(tokens, k + 1)
            return (commas, k) if listed else None
        if word in OPENERS | LINKING | AUXILIARIES or (word,) in PREPOSITIONS or word.endswith("ing"):
            return None
        commas += tokens[k] == ","
        k += 1
    return None


def predicate_end(tokens: list, i: int) -> int:
    """Index just past what goes with the verb at ``tokens[i]`` (its adverbs, objects and phrases), up to the end
    of its clause or a verb joined to it ("smiles [broadly at him] and nods")."""
    k = i + 1
    while not is_right_boundary(tokens, k) and joined_verb(tokens, k) is None:
        k += 1
    return k


def joined_verb(tokens: list, k: int) -> int | None:
    """Index of the verb that "and"/"or" (after a comma and removed words, maybe) at ``tokens[k]`` joins to the
    verb before it ("[giggles], [amused], and covers"); None if no verb is joined there."""
    while k + 1 < len(tokens) and tokens[k] == "," and is_gap(tokens[k + 1]):
        k += 2
    k += k < len(tokens) and tokens[k] == ","
    if k + 1 >= len(tokens) or low(tokens[k]) not in COORDINATORS:
        return None
    k += k + 2 < len(tokens) and low(tokens[k + 1]) in ("then", "also")
    follower, word = tokens[k + 1], low(tokens[k + 1]) or ""
    if word in PRONOUNS | DETERMINERS or is_possessive(follower):  # "and his eyes ...": a clause
        return None
    after = low(tokens[k + 2]) if k + 2 < len(tokens) else None
    with_object = after in DETERMINERS and re.search(r"[^su]s$", word)  # "wrinkles his nose"
    past = word.endswith("ed") and word not in BODY_NOUNS and (  # "nodded", "looked away"
        is_right_boundary(tokens, k + 2) or after in DETERMINERS | LOOK_DIRECTIONS or after.endswith("ly"))
    verb = is_gap(follower) and follower.pos == "verb" or looks_finite(word) or with_object or past
    return k + 1 if verb else None


def clause_start(tokens: list, i: int) -> int:
    """Index where the clause holding ``tokens[i]`` begins (its opening conjunction included)."""
    j = i
    while j > 0:
        prev = tokens[j - 1]
        word = low(prev)
        if prev in CLAUSE_PUNCT:
            return j
        if word in OPENERS or (word in COORDINATORS and is_clause_start(tokens, j)):
            j -= 1
            if word in ("if", "though") and j > 0 and low(tokens[j - 1]) in ("as", "even"):
                j -= 1
            return j
        j -= 1
    return 0


def clause_end(tokens: list, i: int) -> int:
    """Index just past the clause holding ``tokens[i]``."""
    k = i + 1
    while not is_right_boundary(tokens, k):
        k += 1
    return k


def drop_clause(tokens: list, i: int) -> None:
    """Remove the clause holding ``tokens[i]`` with whatever joined it to the rest of the sentence."""
    start, end = clause_start(tokens, i), clause_end(tokens, i)
    if low(tokens[start]) == "that" and start > 0 and low(tokens[start - 1]) in CONVEYING | LINKING:
        tokens[start:end] = [Gap("noun")]  # "suggesting [that he is surprised]": the verb's object is gone
        return
    after_comma = start > 0 and tokens[start - 1] == ","
    if start > 0 and tokens[start - 1] in CLAUSE_PUNCT:
        start -= 1  # ", she seems [sad]" goes with its comma
    elif start > 0 and low(tokens[start]) in COORDINATORS | OPENERS and tokens[start - 1] == ",":
        start -= 1
    if start == 0:  # the sentence's first clause: what joined the next one to it goes too
        separator = tokens[end] if end < len(tokens) else None
        while end < len(tokens) and (tokens[end] in CLAUSE_PUNCT or low(tokens[end]) in CONNECTORS):
            end += 1
        del tokens[:end]
        if separator == "," and is_clause_start(tokens, 0):
            make_finite(tokens)
        return
    if end < len(tokens) and low(tokens[end]) in COORDINATORS and tokens[start] in CLAUSE_PUNCT:
        start, end = start + 1, end + 1  # "X, she seems [sad] and her eyes ..." -> "X, her eyes ..."
    last_of_list = end == len(tokens) and tokens[start] == "," and low(tokens[start + 1]) in COORDINATORS
    coordinator = tokens[start + 1]
    del tokens[start:end]
    if after_comma:
        orphaned_front(tokens, start)
    comma = max((k for k in range(len(tokens)) if tokens[k] == ","), default=None)
    if (last_of_list and comma is not None and not set(tokens[comma:]) & CLAUSE_PUNCT - {","}
            and is_clause_start(tokens, comma + 1)):
        tokens.insert(comma + 1, coordinator)  # "A, B, and [he frowns]" -> "A, and B", as lists go in Fig. 3


def orphaned_front(tokens: list, at: int) -> None:
    """A phrase put before a clause that went: "As the clip ends" loses "As", "Throughout the clip" goes."""
    if at < len(tokens) and tokens[at] not in CLAUSE_PUNCT - {","}:
        return
    begin = max((k + 1 for k in range(at) if tokens[k] in CLAUSE_PUNCT - {","}), default=0)
    if begin == at or "," in tokens[begin:at]:
        return
    first = low(tokens[begin]) or ""
    if first in SUBORDINATORS:
        del tokens[begin]
    elif first in FRONTED or (first,) in PREPOSITIONS or first.endswith("ly"):
        del tokens[begin:at + 1 if begin == 0 else at]
        if begin > 0:
            del tokens[begin - 1]


def make_finite(tokens: list) -> None:
    """"his upper lip raised" -> "his upper lip is raised": an absolute phrase left as the sentence."""
    if {low(w) for w in tokens[:clause_end(tokens, 0)]} & (LINKING | AUXILIARIES):
        return  # a clause with its verb: "her breathing is slow"
    for k in range(1, min(len(tokens), 7)):
        if not is_word(tokens[k]):
            return
        if re.search(r"..(ing|ed)$", low(tokens[k])) and low(tokens[k]) not in BODY_NOUNS:
            head = [low(w) for w in tokens[:k]]
            noun = head[head.index("of") - 1] if "of" in head[1:] else head[-1]  # "the corners of his mouth"
            tokens.insert(k, "are" if noun.endswith("s") and not noun.endswith("ss") else "is")
            return


def verb_chain_start(tokens: list, i: int) -> int:
    """First index of the verb chain ("has become", "seems to be", "is") that ends at ``tokens[i]``."""
    j = i
    while j > 0 and (low(tokens[j - 1]) in LINKING | AUXILIARIES | {"to"}):
        j -= 1
    return j


def have_form(verb: str) -> str | None:
    """"has", "have" or "had" in the tense and number of ``verb``; None for a participle, "be" or a modal."""
    if verb in IRREGULAR_PAST or verb.endswith("ed"):
        return "had"
    if verb in ("is", "'s", "has", "does") or (verb.endswith("s") and not verb.endswith("ss")):
        return "has"
    if verb in ("are", "am", "have", "do") or (verb in LINKING | CONVEYING and verb != "be"
                                               and not verb.endswith(("ing", "n"))):
        return "have"
    return None


def be_form(have: str, subject: list) -> str:
    """The form of "be" agreeing with ``have`` (and, in the past, with the subject's last word)."""
    if have != "had":
        return "is" if have == "has" else "are"
    last = low(subject[-1])
    return "were" if last in ("they", "we", "you") or re.search(r"[^s']s$", last) else "was"


def dangling_verb(tokens: list) -> bool:
    """A verb whose complement was the emotion: rewrite ("is angry, with a scowl" -> "has a scowl",
    "seems nervous, glancing ..." -> "is glancing ...", "the tight lips suggest anger" -> "the tight lips
    are visible") or drop its clause ("His face shows anger and his eyes ..." -> "His eyes ...")."""
    for i, tok in enumerate(tokens):
        if not is_gap(tok) or tok.pos == "adv" or i == 0:
            continue
        verb = low(tokens[i - 1])
        if verb in PRONOUNS or tok.pos == "verb":  # "as she [panics]", "as the noise [startles] her"
            drop_clause(tokens, i)
            return True
        if verb in PARTICLES and i > 1 and low(tokens[i - 2]) in PHRASAL_VERBS:
            del tokens[i - 1]  # "blinks back [tears]" -> "blinks [tears]"
            return True
        linking = verb in LINKING
        if not linking and verb not in CONVEYING:
            continue
        after = low(tokens[i + 1]) if i + 1 < len(tokens) else None
        if linking and verb.startswith("look") and after in LOOK_DIRECTIONS:
            del tokens[i]
            return True
        chain = verb_chain_start(tokens, i - 1)
        if chain > 1 and low(tokens[chain - 1]) in COORDINATORS and is_word(tokens[chain - 2]):
            del tokens[chain - 1:predicate_end(tokens, i)]  # "rolls her eyes and lets out [a laugh]"
            return True
        start = clause_start(tokens, chain)
        while start < chain and low(tokens[start]) in CONNECTORS | OPENERS:
            start += 1
        subject = tokens[start:chain]
        if subject and (joined := joined_verb(tokens, predicate_end(tokens, i))) is not None:
            del tokens[chain:joined]  # "She wipes away [a tear] and looks down" -> "She looks down"
            return True
        form = have_form(low(tokens[chain])) if subject else None
        rest = i + 1 + (after == ",")
        follower = low(tokens[rest]) if rest < len(tokens) else None
        introducer = next((n for n in INTRODUCERS if tuple(low(w) for w in tokens[rest:rest + len(n)]) == n), None)
        if introducer and not linking:  # "shows [joy] with raised cheeks" -> "shows raised cheeks"
            del tokens[i:rest + len(introducer)]
            return True
        if linking and form:
            end = clause_end(tokens, i)
            if follower != "with" and end + 1 < len(tokens) and tokens[end] == "," and low(tokens[end + 1]) == "with":
                rest, follower = end + 1, "with"  # "remains [neutral] throughout, with little movement"
            if follower == "with":
                tokens[chain:rest + 1] = [form]  # "He is [angry], with a scowl" -> "He has a scowl"
                return True
            if (begin := front_with(tokens, start)) is not None:  # "With wide eyes, she looks [astonished]"
                tokens[begin:end] = subject + [form] + tokens[begin + 1:start - 1]
                return True
        if after == "," and form and re.search(r"...ing$", follower or "") and follower not in NOT_PARTICIPLES:
            tokens[chain:rest] = [be_form(form, subject)]
            return True
        if (linking and after == "," and form and (follower in DETERMINERS or is_possessive(tokens[rest]))
                and not {low(w) for w in tokens[rest:clause_end(tokens, rest)]} & (AUXILIARIES | {"be"})):
            tokens[chain:rest] = [form]  # "He looks [sad], his gaze dropping" -> "He has his gaze dropping"
            return True
        if (not linking and form and is_right_boundary(tokens, i + 1)
                and any(is_word(w) and low(w) not in BARE_SUBJECTS for w in subject)):
            tokens[chain:i + 1] = [be_form(form, subject), "visible"]
            return True
        drop_clause(tokens, i)
        return True
    return False


def lost_action(tokens: list) -> bool:
    """An expressive action that was a clause's verb goes with its adverbs and objects, and its subject
    takes the verb joined to it ("The girl [giggles] and covers her mouth" -> "The girl covers her mouth")
    or the participle after it ("He [grins] widely, showing his teeth" -> "He is showing his teeth")."""
    for i, tok in enumerate(tokens):
        if not is_gap(tok) or tok.pos != "verb" or i == 0 or low(tokens[i - 1]) in LINKING | AUXILIARIES | {"to"}:
            continue
        start = clause_start(tokens, i)
        while start < i and low(tokens[start]) in CONNECTORS | OPENERS:
            start += 1
        subject = tokens[start:i]
        if not subject or not all(map(is_word, subject)):
            continue
        end = predicate_end(tokens, i)
        if (joined := joined_verb(tokens, end)) is not None:
            del tokens[i:joined]
            return True
        participle = (low(tokens[end + 1]) if end + 1 < len(tokens) and tokens[end] == "," else None) or ""
        if re.search(r"...ing$", participle) and participle not in NOT_PARTICIPLES:
            word = tok.word
            have = "had" if word.endswith("ed") or word in ("wept", "cried") else have_form(word) or "has"
            tokens[i:end + 1] = [be_form(have, subject)]
            return True
    return False


def front_with(tokens: list, start: int) -> int | None:
    """Where a "With wide eyes," put before the clause starting at ``start`` begins, if there is one."""
    if start == 0 or tokens[start - 1] != ",":
        return None
    begin = max((k + 1 for k in range(start - 1) if tokens[k] in CLAUSE_PUNCT - {","}), default=0)
    if low(tokens[begin]) == "with" and "," not in tokens[begin:start - 1]:
        return begin
    return None


def absolute_predicate(tokens: list) -> bool:
    """"his face [expressionless] and his mouth open": a subject left without its predicate goes."""
    for i, tok in enumerate(tokens):
        if not is_gap(tok) or tok.pos != "adj" or not is_right_boundary(tokens, i + 1):
            continue
        start = clause_start(tokens, i)
        if (0 < i - start <= 3 and (low(tokens[start]) in DETERMINERS or is_possessive(tokens[start]))
                and (start == 0 or tokens[start - 1] in CLAUSE_PUNCT)):
            drop_clause(tokens, i)
            return True
    return False


def lost_subject(tokens: list) -> bool:
    """An emotion noun opening a clause was its subject: the clause goes ("Fear grips him as ...")."""
    for i, tok in enumerate(tokens):
        if not is_gap(tok, nominal=True) or i + 1 >= len(tokens) or not is_word(tokens[i + 1]):
            continue
        if low(tokens[i + 1]) in COORDINATORS or (low(tokens[i + 1]),) in PREPOSITIONS and tok.pos != "noun":
            continue
        before = tokens[i - 1] if i else None
        if before is None or before in CLAUSE_PUNCT or low(before) in OPENERS | COORDINATORS:
            if not evidence_visible(tokens, i):
                drop_clause(tokens, i)
            return True
    return False


def evidence_visible(tokens: list, i: int) -> bool:
    """"[Sadness] is evident in her drooping eyelids" -> "Her drooping eyelids are visible"."""
    k = i + 1
    verb = low(tokens[k])
    if verb not in ("is", "are", "was", "were", "seems", "seemed", "appears", "appeared", "remains"):
        return False
    k += 1
    while k < len(tokens) and low(tokens[k]) in DEGREE | {"also"}:
        k += 1
    if (k + 2 >= len(tokens) or low(tokens[k]) not in EVIDENT
            or low(tokens[k + 1]) not in ("in", "from", "through", "on", "by")):
        return False
    end = clause_end(tokens, k + 2)
    evidence = tokens[k + 2:end]
    plural = "and" in map(low, evidence) or re.search(r"[^s']s$", low(evidence[-1])) is not None
    past = verb in ("was", "were") or verb.endswith("ed")
    be = ("were" if plural else "was") if past else ("are" if plural else "is")
    tokens[i:end] = evidence + [be, "visible"]
    return True


RULES = (absorb_modifiers, merge_gaps, absorb_noun_phrase, complement, coordination, lost_action,
          dangling_verb, lost_subject, absolute_predicate)


def remove_gaps(tokens: list) -> None:
    """The gaps no rule took: drop each with the punctuation it leaves doubled."""
    i = 0
    while i < len(tokens):
        if not is_gap(tokens[i]):
            i += 1
            continue
        before = tokens[i - 1] if i else None
        after = tokens[i + 1] if i + 1 < len(tokens) else None
        if before == "(" and after == ")":  # "The person (probably [anxious]) keeps ..."
            del tokens[i - 1:i + 2]
        elif before is None and after in CLAUSE_PUNCT:  # "Angrily, he frowns."
            del tokens[i:i + 2]
        elif before == after and before in ("\u2014", "\u2013"):  # "She smiles \u2014 [joyfully] \u2014 and nods"
            del tokens[i - 1:i + 2]
        elif before in CLAUSE_PUNCT and after in CLAUSE_PUNCT:  # "He giggles, [amused], and ..."
            del tokens[i - 1:i + 1]
            if after == "," and not is_clause_start(tokens, i):
                del tokens[i - 1]
        elif (before == "," and is_word(after) and i > 2 and is_word(tokens[i - 2])
              and (low(tokens[i - 3]) in DETERMINERS or tokens[i - 3] == ",")):
            del tokens[i - 1:i + 1]  # "a long, [defeated] sigh" -> "a long sigh"
        elif low(before) in DETERMINERS and after == ",":  # "a [happy], open smile" -> "an open smile"
            del tokens[i:i + 2]
        elif before in CLAUSE_PUNCT and after is None:  # "..., [clearly upset]."
            del tokens[i - 1:i + 1]
        else:
            del tokens[i]
        i = max(i - 1, 0)


def tidy(tokens: list) -> None:
    """No doubled or leading punctuation, no dangling last word, "a"/"an" agreeing with the next word."""
    changed = True
    while changed:
        changed = False
        if tokens and (tokens[0] in CLAUSE_PUNCT or low(tokens[0]) in COORDINATORS):
            del tokens[0]
            changed = True
        if tokens and (tokens[-1] in CLAUSE_PUNCT or low(tokens[-1]) in DANGLING_TAIL):
            del tokens[-1]
            changed = True
        for i in range(len(tokens) - 1):
            if tokens[i] in CLAUSE_PUNCT and (tokens[i + 1] in CLAUSE_PUNCT or low(tokens[i + 1]) in DANGLING_TAIL
                                          and i + 2 < len(tokens) and tokens[i + 2] in CLAUSE_PUNCT):
                del tokens[i + 1]
                changed = True
                break
            if low(tokens[i]) in DANGLING_TAIL and tokens[i + 1] in CLAUSE_PUNCT:
                del tokens[i]
                changed = True
                break
    for i in range(len(tokens) - 1):
        moved_up = getattr(tokens[i + 1], "position", -1) != getattr(tokens[i], "position", -1) + 1
        if low(tokens[i]) in ("a", "an") and is_word(tokens[i + 1]) and moved_up:  # "an [angry] scowl" -> "a scowl"
            vowel = re.match(r"[aio]|e(?!u)|u(?!ni|s[eu]|ti|r[aeiou])|hour|honest|heir", low(tokens[i + 1]))
            tokens[i] = tokens[i][0] + ("n" if vowel else "")


def render(tokens: list[str], end: str) -> str:
    """The tokens spaced as in the text they came from (words the rules wrote in get a space)."""
    text = tokens[0]
    for prev, tok in zip(tokens, tokens[1:]):
        spaced = getattr(tok, "spaced", True) or (is_word(prev) and is_word(tok))
        text += (" " if spaced and tok not in ",;:" else "") + tok
    return text[0].upper() + text[1:] + end


def repair_sentence(tokens: list, end: str) -> str:
    """The sentence's tokens (gaps standing for emotion words) as a grammatical sentence, or ""."""
    changed = True
    while changed:
        changed = any(rule(tokens) for rule in RULES)
    remove_gaps(tokens)
    tidy(tokens)
    return render(tokens, end) if sum(is_word(t) for t in tokens) >= 2 else ""
