"""Label leakage filter: removes words that name an emotion, and by default the expressive actions that
imply one (smile, laugh, tears, frown, ...), as the paper does with MLLM descriptions (its Fig. 3).

Which words: :mod:`fineclipper.describe.emotion_words` (a lexicon per class, derived forms by suffixes).
Whether "smiles" is a noun or a verb, the filter tells from the word before it.

Repair. Each sentence that named an emotion is rewritten by rules on its tokens, the removed words
standing as gaps: modifiers, articles and prepositions of a removed noun go with it ("in an expression
of fear", "with a sense of dread"); a removed adjective leaves its noun ("a joyful smile" -> "a smile")
and its list ("happy and relaxed" -> "relaxed"); a verb left without its complement ("His face
shows anger and ...", "He looks terrified as ...") takes its clause with it, except that "X is angry,
with a scowl" becomes "X has a scowl", "X seems nervous, glancing ..." becomes "X is glancing ...",
"the tight lips suggest anger" becomes "the tight lips are visible" and "Fear is evident in his wide
eyes" becomes "His wide eyes are visible". The rules only delete words or write in "has"/"is"/
"visible"; they never add content. An expressive action goes with its adverbs and adjectives ("a wide
[smile]", "[laughs] loudly"), and its subject takes the verb or participle joined to it ("The girl [giggles]
and covers her mouth" -> "The girl covers her mouth"). A list that lost its last item keeps its
conjunction before the new last one ("a slight upturned mouth, relaxed eyebrows, and [a slight smile]" ->
"a slight upturned mouth, and relaxed eyebrows", as in Fig. 3). Sentences without an emotion word are
returned unchanged.
"""

from __future__ import annotations

import re

from .emotion_words import AFTER_FEEL, EMOTION_PHRASES, FEEL_FORMS, action_roles, base_words, emotion_pos

# ----------------------------------------------------------------------------------------------------
# Word classes the repair rules use.


def _verb_forms(verbs: str, irregular: str = "") -> set[str]:
    """The verbs with their -s, -ed and -ing forms (and ``irregular`` forms as given)."""
    forms = set(irregular.split())
    for base in verbs.split():
        stem = base[:-1] if base.endswith("e") else base
        if re.search(r"[^aeiou]y$", base):
            third, past = base[:-1] + "ies", base[:-1] + "ied"
        else:
            third, past = base + ("es" if re.search(r"(s|sh|ch|x)$", base) else "s"), stem + "ed"
        forms |= {base, third, past, stem + "ing"}
    return forms


#: Verbs whose complement may be the emotion: "looks [sad]", "seems to be [angry]".
_LINKING = _verb_forms("look seem appear feel become grow turn remain stay get sound begin start continue tend",
                       "is are am was were be being been 's felt became grew grown got gotten began begun")
#: Verbs whose object may be the emotion: "shows [anger]", "suggesting [anxiety]".
_CONVEYING = _verb_forms(
    "show express display convey suggest indicate reveal betray radiate exude register signal reflect project "
    "evoke imply denote mirror communicate portray depict exhibit demonstrate emanate carry wear mask hide "
    "conceal experience suppress hint give flash shoot maintain keep hold adopt assume cause trigger spark "
    "capture emphasize emphasise underscore highlight replace follow overtake overcome seize grip crack force "
    "manage muster offer fake break burst let form make wipe brush stifle",
    "shown wore worn hid hidden gave given kept held shot broke broken letting made")
#: Verbs with a particle whose object may be an expressive action: "lets out [a laugh]", "blinks back [tears]".
_PHRASAL_VERBS = _verb_forms("let blink hold fight choke wipe brush", "letting held fought")
_PARTICLES = {"out", "back", "away"}
_AUXILIARIES = {"is", "are", "am", "was", "were", "'s", "has", "have", "had", "does", "do", "did", "may", "might",
                "can", "could", "will", "would", "shall", "should", "must"}
_DETERMINERS = {"a", "an", "the", "his", "her", "their", "its", "my", "your", "our", "this", "that", "these",
                "those", "some", "any", "no", "such", "one's"}
_PRONOUNS = {"he", "she", "they", "it", "i", "we", "you", "who", "there"}
#: Body nouns that open a clause after "and" ("looks sad and tears stream down").
_BODY_NOUNS = set("eyes lips brows eyebrows cheeks tears hands shoulders nostrils teeth fists arms lids eyelids "
                  "corners muscles wrinkles lines features mouth jaw brow chin nose lip head face gaze forehead "
                  "breathing".split())
_CLAUSE_STARTERS = _PRONOUNS | _BODY_NOUNS | _DETERMINERS - {"some", "any", "no", "such"} | {"one", "both"}
#: Adverbs that only grade or hedge the emotion word after them ("visibly angry", "perhaps sad").
_DEGREE = set(
    "very so too quite rather fairly pretty somewhat slightly mildly moderately extremely deeply highly truly "
    "genuinely really visibly clearly obviously evidently apparently seemingly noticeably increasingly utterly "
    "completely totally thoroughly overtly openly unmistakably palpably intensely profoundly incredibly "
    "particularly especially suddenly almost nearly more most less least subtly faintly momentarily briefly "
    "even outwardly immensely hugely terribly awfully distinctly decidedly markedly plainly largely mostly "
    "generally relatively mainly predominantly entirely not probably possibly perhaps maybe likely "
    "presumably".split())
#: Adjectives that only qualify the emotion noun after them ("in apparent disgust", "barely contained rage").
_NOUN_MODIFIERS = _DEGREE | set(
    "deep sheer pure obvious apparent evident visible clear slight mild growing mounting rising increasing "
    "sudden intense genuine subtle faint palpable great extreme utter total complete quiet underlying hidden "
    "barely thinly poorly contained concealed suppressed restrained controlled masked veiled repressed mock "
    "feigned real true much unmistakable distinct strong overwhelming overall general lingering momentary "
    "brief fleeting certain definite noticeable slightest raw outright open".split())
#: Adjectives by their ending, taken with the emotion noun after them when an article or preposition
#: comes before ("with undisguised hatred").
_ADJECTIVE_SHAPE = re.compile(r"..(ed|ful|ous|ive|al|ic|able|ible|ent|ant|less)$")
#: Nouns that carry only the emotion named after "of": "a sense of dread", "an expression of contempt".
_OF_NOUNS = set(
    "sense hint hints look looks expression expressions sign signs feeling feelings air trace traces touch mix "
    "mixture combination blend display show state mask glimmer flicker flash wave surge note tinge aura "
    "picture one bit kind sort moment moments shadow spark glint element degree level undercurrent overtone "
    "overtones suggestion indication indications impression semblance portrait image depiction sensation".split())
#: Nouns that an emotion adjective before them empties: "a fearful expression", "his emotional state".
_EMOTION_HEADS = set(
    "expression expressions look looks demeanor demeanour air mood disposition state countenance manner "
    "attitude vibe reaction response energy aura".split())
_PREPOSITIONS = sorted({
    ("in",), ("with",), ("without",), ("of",), ("from",), ("into",), ("to",), ("toward",), ("towards",),
    ("at",), ("by",), ("for",), ("amid",), ("through",), ("like",), ("as",), ("despite",), ("behind",),
    ("out", "of"), ("rather", "than"), ("instead", "of"), ("full", "of"), ("filled", "with"),
    ("tinged", "with"), ("laced", "with"), ("mixed", "with"), ("etched", "with"),
    ("marked", "by"), ("consistent", "with"), ("typical", "of"), ("characteristic", "of"),
    ("indicative", "of"), ("suggestive", "of"), ("reminiscent", "of"), ("associated", "with"),
    ("born", "of"), ("because", "of"), ("due", "to"), ("on", "the", "verge", "of"), ("on", "the", "brink", "of"),
    ("close", "to")}, key=len, reverse=True)  # longest first
_COORDINATORS = {"and", "or"}
#: Words that open a clause whatever follows them.
_OPENERS = {"but", "yet", "so", "nor", "then", "while", "whereas", "although", "though", "because", "since",
            "as", "when", "whenever", "until", "unless", "once", "if", "which", "who", "whose", "whom", "that"}
_SUBORDINATORS = {"while", "whereas", "although", "though", "because", "since", "as", "when", "whenever",
                  "until", "unless", "once", "if"}
#: What joins a clause to the one before it, dropped with a dropped first clause.
_CONNECTORS = _COORDINATORS | _SUBORDINATORS | {"but", "yet", "so", "nor"}
#: Words that end the look-back for an article before "a telltale sign of".
_NOT_ADJECTIVES = _LINKING | _CONVEYING | _PRONOUNS | _BODY_NOUNS | _COORDINATORS | _OPENERS
#: Directions after which "looks" is a movement, not a linking verb ("looks angrily at the camera").
_LOOK_DIRECTIONS = {"at", "toward", "towards", "away", "around", "down", "up", "into", "over", "off", "to",
                    "back", "straight", "directly", "ahead", "sideways"}
#: Subjects that say nothing once what they conveyed is gone ("his face shows fear").
_BARE_SUBJECTS = _DETERMINERS | _PRONOUNS | set(
    "face faces expression expressions features countenance demeanor demeanour look appearance eyes eye gaze "
    "body language posture whole entire person man woman boy girl child subject speaker individual actor "
    "actress everything all facial movement movements overall".split())
#: Words that open a phrase put before its clause ("Throughout the clip, ..."), besides prepositions.
_FRONTED = set("throughout overall initially finally later meanwhile now here during after before early late "
               "midway eventually gradually soon first then".split())
#: What introduces the signs of an emotion after it: "shows [joy], characterized by raised cheeks".
_INTRODUCERS = sorted({("with",), ("including",), ("like",), ("featuring",), ("such", "as"), ("characterized", "by"),
                       ("characterised", "by"), ("marked", "by"), ("evidenced", "by"), ("as", "evidenced", "by"),
                       ("as", "shown", "by"), ("shown", "by"), ("as", "seen", "in"), ("seen", "in")},
                      key=len, reverse=True)
#: "[Fear] is evident in ...": adjectives that point at where an emotion shows.
_EVIDENT = set("evident visible apparent clear noticeable obvious reflected expressed shown written etched "
               "palpable present discernible detectable readable".split())
#: Prepositions that take the rest of the clause with an emotion adjective: "scared of the dark".
_COMPLEMENT_PREPOSITIONS = {"by", "of", "about", "at", "over", "toward", "towards"}
#: Words in -ing that are no participle.
_NOT_PARTICIPLES = {"nothing", "something", "anything", "everything", "king", "ring", "thing", "string"}
_CLAUSE_PUNCT = {",", ";", ":", "\u2014", "\u2013"}
#: Words that cannot end a sentence once what followed them was removed.
_DANGLING_TAIL = {"and", "or", "but", "with", "of", "in", "into", "to", "from", "at", "by", "for", "a", "an",
                  "the", "very", "quite", "so", "too", "rather"}
_TOKEN = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*|\S")


class _Token(str):
    """A word or punctuation mark that remembers its place in the sentence and whether a space stood
    before it (words the rules write in are plain strings)."""

    position = -1
    spaced = True


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for position, match in enumerate(_TOKEN.finditer(text)):
        token = _Token(match.group())
        token.position, token.spaced = position, match.start() > 0 and text[match.start() - 1].isspace()
        tokens.append(token)
    return tokens


class _Gap:
    """Where removed words stood; ``pos`` is their grammatical role (adv, adj, noun or verb), ``word`` the
    word removed (lower case; empty where gaps merged)."""

    __slots__ = ("pos", "listed", "word")

    def __init__(self, pos: str, listed: bool = False, word: str = ""):
        self.pos, self.listed, self.word = pos, listed, word  # listed: already joins several by "and"/"or"


def _low(token) -> str | None:
    return token.lower().replace("\u2019", "'") if isinstance(token, str) else None


def _is_gap(token, nominal: bool | None = None) -> bool:
    if not isinstance(token, _Gap):
        return False
    return nominal is None or (token.pos in ("noun", "verb")) == nominal


def _is_word(token) -> bool:
    return isinstance(token, str) and token[0].isalnum()


def _is_possessive(token) -> bool:
    return _is_word(token) and _low(token).endswith("'s")


# ----------------------------------------------------------------------------------------------------
# Matching: the sentence's tokens with emotion words replaced by gaps.


#: Words after which an expressive action that may be noun or verb is a verb ("she smiles", "to smile").
_BEFORE_VERB = _PRONOUNS | _AUXILIARIES | _COORDINATORS | _BODY_NOUNS | (_BARE_SUBJECTS - _DETERMINERS) | {
    "to", ",", "then", "also", "still", "just", "only", "often", "that", "which", "lady", "people", "men",
    "women", "children", "girls", "boys", "kid", "baby"}


def _action_pos(lowered: list[str], i: int, roles: set[str]) -> str:
    """The part of speech of the expressive action at ``i`` in its sentence: "smiles" is a verb after a
    subject, "to" or "and", else a noun; "smiled" and "smiling" are verbs unless an article or a linking
    verb comes before them."""
    before = lowered[i - 1] if i else None
    adverb = before and before.endswith("ly") and (i < 2 or lowered[i - 2] not in _DETERMINERS)
    if roles == {"noun", "verb"}:
        return "verb" if before in _BEFORE_VERB or adverb else "noun"
    if roles == {"adj"} and lowered[i].endswith(("ed", "ing")) and before not in _DETERMINERS | _LINKING:
        return "verb"  # "he smiled", "Smiling warmly, ..."; not "a smiling face", "is smiling"
    return roles.pop()


def _mark(tokens: list[str], bases: dict[str, str], phrases: dict[str, tuple],
          actions: bool = True) -> tuple[list, list[str]]:
    """The tokens with each emotion word or phrase (and, with ``actions``, each expressive action) replaced
    by a gap, and the words replaced."""
    out, removed, i = [], [], 0
    lowered = [_low(t) for t in tokens]
    while i < len(tokens):
        match = next(((len(p.split()), pos) for pos, group in phrases.items() for p in group
                      if lowered[i:i + len(p.split())] == p.split()), None)
        if match is None and lowered[i] in AFTER_FEEL and i and lowered[i - 1] in FEEL_FORMS:
            match = (1, "adj")
        if match is None and _is_word(tokens[i]):
            pos = emotion_pos(tokens[i], bases)
            if lowered[i] == "feeling":  # a noun after an article or adjective, else the verb "feel"
                before = lowered[i - 1] if i else ""
                after = lowered[i + 1] if i + 1 < len(tokens) else ""
                adjective = before in _NOUN_MODIFIERS - _DEGREE
                pos = "noun" if (before in _DETERMINERS or adjective) and after != "of" else None
            if pos and actions and (roles := action_roles(tokens[i])):
                pos = _action_pos(lowered, i, roles)
                if pos == "noun" and (article := _article_before(out)) is not None:
                    del out[article + 1:]  # "a wide, toothy [smile]": the adjectives describe the action
            match = (1, pos) if pos else None
        if match is None:
            out.append(tokens[i])
            i += 1
            continue
        length, pos = match
        removed.append(" ".join(tokens[i:i + length]))
        out.append(_Gap(pos, word=lowered[i] if length == 1 else ""))
        i += length
    return out, removed


# ----------------------------------------------------------------------------------------------------
# Repair rules: each finds one place to change, changes it and returns True.


def _absorb_modifiers(t: list) -> bool:
    """Degree adverbs and qualifying adjectives go with the emotion word they qualify."""
    for i, tok in enumerate(t):
        if not _is_gap(tok) or i == 0:
            continue
        before = _low(t[i - 1])
        modifiers = _NOUN_MODIFIERS if _is_gap(tok, nominal=True) else _DEGREE
        verb_before = i > 1 and before not in _DEGREE and _low(t[i - 2]) in _BODY_NOUNS | _LINKING
        if before in modifiers and not verb_before:  # not "her cheeks rising [smile]"
            del t[i - 1]
            return True
        if before in ("bit", "little", "touch") and i > 1 and _low(t[i - 2]) == "a":
            del t[i - 2:i]
            return True
        if (_is_gap(tok, nominal=True) and i > 1 and _ADJECTIVE_SHAPE.search(before or "")
                and (_low(t[i - 2]) in _DETERMINERS or (_low(t[i - 2]),) in _PREPOSITIONS)):
            del t[i - 1]  # "with undisguised [hatred]", "a classic [sorrow]"
            return True
    return False


def _article_before(t: list) -> int | None:
    """Index of the article (or possessive) that one to three adjectives at the end of ``t`` follow
    ("a wide, toothy"); None if ``t`` does not end so."""
    k = len(t) - 1
    while k >= 0 and len(t) - k <= 4 and (t[k] == "," or _is_gap(t[k]) and t[k].pos in ("adj", "adv") or _is_word(t[k])
                                          and _low(t[k]) not in _NOT_ADJECTIVES | _DEGREE
                                          and (_low(t[k]),) not in _PREPOSITIONS):
        if _low(t[k]) in _DETERMINERS or _is_possessive(t[k]):
            return k if k < len(t) - 1 and t[k + 1] != "," else None
        k -= 1
    return None


def _merge_gaps(t: list) -> bool:
    """Adjacent gaps, and gaps joined by "and"/"or" (a list of emotions), become one."""
    for i in range(len(t) - 1):
        if _is_gap(t[i]) and _is_gap(t[i + 1]):
            pair = (t[i], t[i + 1])  # "[joyful] [smile]" is a noun, "[grins] [happily]" a verb
            head = next((g for g in pair if g.pos == "verb"), t[i] if t[i + 1].pos == "adv" else t[i + 1])
            t[i:i + 2] = [_Gap(head.pos, t[i].listed or t[i + 1].listed, head.word)]
            return True
        if not _is_gap(t[i]):
            continue
        for joiner in (("and",), ("or",), (",", "and"), (",", "or"), ("and", "even"), ("or", "even"),
                       ("or", "perhaps"), ("and", "perhaps"), ("if", "not"), ("but", "also")):
            j = i + 1 + len(joiner)
            if tuple(_low(x) for x in t[i + 1:j]) == joiner and j < len(t) and _is_gap(t[j]):
                t[i:j + 1] = [_Gap(t[j].pos, listed=True)]
                return True
        if _low(t[i + 1]) == "," and i + 2 < len(t) and _is_gap(t[i + 2]) and t[i + 2].listed:
            t[i:i + 3] = [_Gap(t[i + 2].pos, listed=True)]
            return True
    return False


def _absorb_noun_phrase(t: list) -> bool:
    """An emotion noun takes its article, its "a sense of" and its preposition; "a fearful expression"
    is an emotion noun phrase as a whole."""
    for i, tok in enumerate(t):
        if not _is_gap(tok) or tok.pos == "verb":
            continue
        if (tok.pos == "adj" and i and (_low(t[i - 1]) in _DETERMINERS or (_low(t[i - 1]),) in _PREPOSITIONS)
                and (_is_right_boundary(t, i + 1) or (_low(t[i + 1]),) in _PREPOSITIONS)
                and not _adjective_list(t, i)):
            tok.pos = "noun"  # "a deep [melancholy].", "from [neutral] to [angry]"
            return True
        if not _is_gap(tok, nominal=True):
            if i + 1 < len(t) and _low(t[i + 1]) in _EMOTION_HEADS:
                t[i:i + 2] = [_Gap("noun")]
                return True
            continue
        before = _low(t[i - 1]) if i else None
        if _leads_list(t, i):
            continue  # "with [fear] and tension": the list keeps its article and preposition
        if (before in _DETERMINERS and i > 1 and (_low(t[i - 2]),) in _PREPOSITIONS and i + 2 < len(t)
                and _low(t[i + 1]) in _COORDINATORS and _low(t[i + 2]) in _DETERMINERS):
            del t[i - 1:i + 2]  # "with a [scowl] and a clenched jaw" -> "with a clenched jaw"
            return True
        if before in _DETERMINERS or (i and _is_possessive(t[i - 1])):
            del t[i - 1]
            return True
        if before == "of" and i > 1 and _low(t[i - 2]) in _OF_NOUNS:
            start = i - 2
            for k in range(i - 3, max(i - 6, -1), -1):  # "a telltale sign of": its article and adjectives
                word = _low(t[k])
                if word in _DETERMINERS:
                    start = k
                if not _is_word(t[k]) or word in _NOT_ADJECTIVES or (word,) in _PREPOSITIONS:
                    break
            del t[start:i]
            return True
        for prep in _PREPOSITIONS:
            n = len(prep)
            if i >= n and tuple(_low(x) for x in t[i - n:i]) == prep:
                if prep in (("as",), ("like",)) and not _is_right_boundary(t, i + 1):
                    break  # "as [anger] builds": "as" opens a clause
                del t[i - n:i]
                return True
    return False


def _adjective_list(t: list, i: int) -> bool:
    """Whether the gap at ``i`` is followed by ", " and another adjective ("a [happy], open smile")."""
    if i + 2 >= len(t) or t[i + 1] != "," or not _is_word(t[i + 2]):
        return False
    follower = _low(t[i + 2])
    return not (_is_clause_start(t, i + 2) or follower in _OPENERS | _COORDINATORS
                or (follower,) in _PREPOSITIONS or follower.endswith("ing"))


def _looks_finite(word: str) -> bool:
    """A present-tense verb by its shape ("shifts", "covers"; not "nervous" or "tension")."""
    return re.search(r"[^su]s$", word) is not None and word not in _BODY_NOUNS


def _leads_list(t: list, i: int) -> bool:
    """Whether the gap at ``i`` is followed by "and"/"or" and a word that stays in its list (for a
    noun: not a verb that goes on the sentence, as in "in [disbelief] and covers his face")."""
    if i + 2 >= len(t) or _low(t[i + 1]) not in _COORDINATORS or not _is_word(t[i + 2]):
        return False
    follower = _low(t[i + 2])
    return (not _is_clause_start(t, i + 2) and follower not in _OPENERS
            and not (_is_gap(t[i], nominal=True) and _looks_finite(follower)))


def _complement(t: list) -> bool:
    """What the emotion was about goes with it: "scared [of something]", "fear [of heights]"."""
    for i, tok in enumerate(t):
        if not _is_gap(tok) or i + 1 >= len(t) or tok.pos == "adv":
            continue
        after = _low(t[i + 1])
        looking = i and _low(t[i - 1]).startswith("look") and after in _LOOK_DIRECTIONS  # "looks [angrily] at"
        if after == "of" or (tok.pos == "adj" and after in _COMPLEMENT_PREPOSITIONS and not looking):
            del t[i + 1:_clause_end(t, i + 1)]
            return True
    return False


def _is_clause_start(t: list, i: int) -> bool:
    return i < len(t) and (_low(t[i]) in _CLAUSE_STARTERS or _is_possessive(t[i]))


def _is_right_boundary(t: list, i: int) -> bool:
    """Whether a clause ends before ``t[i]``."""
    if i >= len(t):
        return True
    word = _low(t[i])
    return (t[i] in _CLAUSE_PUNCT or word in _OPENERS
            or (word in _COORDINATORS and _is_clause_start(t, i + 1)))


def _coordination(t: list) -> bool:
    """A removed adjective or noun leaves its list: "happy and relaxed" -> "relaxed"."""
    for i, tok in enumerate(t):
        if not _is_gap(tok) or tok.pos == "adv":
            continue
        before, after = (_low(t[i - 1]) if i else None), (_low(t[i + 1]) if i + 1 < len(t) else None)
        # "shows a [frown], tight lips, and lowered brows" -> "shows tight lips and lowered brows"
        if tok.pos == "noun" and (rest := _rest_of_list(t, i)) is not None:
            if rest[0] == 1:
                del t[rest[1] - 1]  # the comma before "and" goes with a list of two left
            del t[i - (before in _DETERMINERS):i + 2]
            return True
        # "looks [happy] and relaxed", "a [happy] and relaxed smile", "with [fear] and tension"
        if _leads_list(t, i) and (tok.pos == "adj" and _is_word(t[i - 1]) and before not in _PRONOUNS
                                  or before in _DETERMINERS
                                  or before in _LINKING or before in _CONVEYING or (before,) in _PREPOSITIONS):
            follower = _low(t[i + 2])
            if before in _LINKING and _looks_finite(follower):  # "seems [nervous] and shifts ..."
                del t[_verb_chain_start(t, i - 1):i + 2]
            else:
                del t[i:i + 2]
            return True
        # "feeling [sad], contemplative", "is not [angry], just focused"
        listed = t[i + 2:_clause_end(t, i + 2)] if after == "," and i + 2 < len(t) else []
        if (before in _LINKING and 0 < len(listed) <= 2 and all(map(_is_word, listed))
                and not _is_clause_start(t, i + 2) and _low(t[i + 2]) not in _OPENERS | _COORDINATORS
                and (_low(t[i + 2]),) not in _PREPOSITIONS and not re.search(r"...ing$", _low(t[i + 2]))):
            del t[i:i + 2]
            if t[i + 1:i + 2] == [","] and _low(t[i + 2] if i + 2 < len(t) else "") in _COORDINATORS:
                del t[i + 1]  # "is relaxed, and smiling" -> "is relaxed and smiling"
            return True
        # "contemplative, or [disappointed]."; "a slight upturned mouth, relaxed eyebrows, and [a slight smile]"
        # -> "a slight upturned mouth, and relaxed eyebrows": the conjunction moves to the last item left,
        # as in the paper's Fig. 3
        end = _predicate_end(t, i) if tok.pos == "verb" else i + 1  # "nods, blinks, and [frowns] slightly"
        if before in _COORDINATORS and i > 1 and t[i - 2] == "," and _is_right_boundary(t, end):
            coordinator, item = t[i - 1], _last_list_item(t, i - 2)
            del t[i - 2:end]
            if item is not None:
                t.insert(item, coordinator)
            return True
        # "tense, [anxious] and tired", "tense, [anxious], and tired"
        if before == "," and after in _COORDINATORS and i + 2 < len(t) and not _is_clause_start(t, i + 2):
            del t[i - 1:i + 1]
            return True
        # "nods and [laughs] at the joke"
        if before in _COORDINATORS and i > 1 and _is_word(t[i - 2]) and tok.pos == "verb":
            del t[i - 1:_predicate_end(t, i)]
            return True
        # "relaxed and [happy]", "with pain and [disgust] in his eyes"
        if before in _COORDINATORS and i > 1 and _is_word(t[i - 2]):
            follows = t[i + 1] if i + 1 < len(t) else None
            ends = follows is None or follows in _CLAUSE_PUNCT or _is_right_boundary(t, i + 1)
            if ends or (_is_word(follows) and (not _is_gap(tok, nominal=True)
                                               or (after,) in _PREPOSITIONS)):
                del t[i - 1:i + 1]
                if (item := _last_list_item(t, i - 1)) is not None:
                    t[item - 1] = "and"  # "tense, tired and [sad]" -> "tense and tired"
                return True
    return False


def _last_list_item(t: list, comma: int) -> int | None:
    """Where the list item that ends at ``t[comma]`` begins, if another item and a comma come before it
    ("a slight upturned mouth, [relaxed eyebrows],"); None if it is no such item."""
    k = comma - 1
    while k > 0 and _is_word(t[k]) and _low(t[k]) not in _COORDINATORS | _OPENERS | _LINKING | _AUXILIARIES:
        k -= 1
    if t[k] != "," or not 1 <= comma - k - 1 <= 4 or not _is_word(t[k - 1]):
        return None
    return k + 1


def _rest_of_list(t: list, i: int) -> tuple[int, int] | None:
    """For a gap at ``t[i]`` that leads a list of words ("[a frown], tight lips, and lowered brows"): the
    number of commas after its own and the index of the list's "and"/"or"; None if it leads no such list."""
    if i + 1 >= len(t) or t[i + 1] != "," or _is_clause_start(t, i + 2):
        return None
    commas, k = 0, i + 2
    while k < len(t) and k - i <= 10 and (_is_word(t[k]) or t[k] == ","):
        word = _low(t[k])
        if word in _COORDINATORS:
            listed = k > i + 3 and k + 1 < len(t) and _is_word(t[k + 1]) and not _is_clause_start(t, k + 1)
            return (commas, k) if listed else None
        if word in _OPENERS | _LINKING | _AUXILIARIES or (word,) in _PREPOSITIONS or word.endswith("ing"):
            return None
        commas += t[k] == ","
        k += 1
    return None


def _predicate_end(t: list, i: int) -> int:
    """Index just past what goes with the verb at ``t[i]`` (its adverbs, objects and phrases), up to the end
    of its clause or a verb joined to it ("smiles [broadly at him] and nods")."""
    k = i + 1
    while not _is_right_boundary(t, k) and _joined_verb(t, k) is None:
        k += 1
    return k


def _joined_verb(t: list, k: int) -> int | None:
    """Index of the verb that "and"/"or" (after a comma and removed words, maybe) at ``t[k]`` joins to the
    verb before it ("[giggles], [amused], and covers"); None if no verb is joined there."""
    while k + 1 < len(t) and t[k] == "," and _is_gap(t[k + 1]):
        k += 2
    k += k < len(t) and t[k] == ","
    if k + 1 >= len(t) or _low(t[k]) not in _COORDINATORS:
        return None
    k += k + 2 < len(t) and _low(t[k + 1]) in ("then", "also")
    follower, word = t[k + 1], _low(t[k + 1]) or ""
    if word in _PRONOUNS | _DETERMINERS or _is_possessive(follower):  # "and his eyes ...": a clause
        return None
    after = _low(t[k + 2]) if k + 2 < len(t) else None
    with_object = after in _DETERMINERS and re.search(r"[^su]s$", word)  # "wrinkles his nose"
    past = word.endswith("ed") and word not in _BODY_NOUNS and (  # "nodded", "looked away"
        _is_right_boundary(t, k + 2) or after in _DETERMINERS | _LOOK_DIRECTIONS or after.endswith("ly"))
    verb = _is_gap(follower) and follower.pos == "verb" or _looks_finite(word) or with_object or past
    return k + 1 if verb else None


def _clause_start(t: list, i: int) -> int:
    """Index where the clause holding ``t[i]`` begins (its opening conjunction included)."""
    j = i
    while j > 0:
        prev = t[j - 1]
        word = _low(prev)
        if prev in _CLAUSE_PUNCT:
            return j
        if word in _OPENERS or (word in _COORDINATORS and _is_clause_start(t, j)):
            j -= 1
            if word in ("if", "though") and j > 0 and _low(t[j - 1]) in ("as", "even"):
                j -= 1
            return j
        j -= 1
    return 0


def _clause_end(t: list, i: int) -> int:
    """Index just past the clause holding ``t[i]``."""
    k = i + 1
    while not _is_right_boundary(t, k):
        k += 1
    return k


def _drop_clause(t: list, i: int) -> None:
    """Remove the clause holding ``t[i]`` with whatever joined it to the rest of the sentence."""
    start, end = _clause_start(t, i), _clause_end(t, i)
    if _low(t[start]) == "that" and start > 0 and _low(t[start - 1]) in _CONVEYING | _LINKING:
        t[start:end] = [_Gap("noun")]  # "suggesting [that he is surprised]": the verb's object is gone
        return
    after_comma = start > 0 and t[start - 1] == ","
    if start > 0 and t[start - 1] in _CLAUSE_PUNCT:
        start -= 1  # ", she seems [sad]" goes with its comma
    elif start > 0 and _low(t[start]) in _COORDINATORS | _OPENERS and t[start - 1] == ",":
        start -= 1
    if start == 0:  # the sentence's first clause: what joined the next one to it goes too
        separator = t[end] if end < len(t) else None
        while end < len(t) and (t[end] in _CLAUSE_PUNCT or _low(t[end]) in _CONNECTORS):
            end += 1
        del t[:end]
        if separator == "," and _is_clause_start(t, 0):
            _make_finite(t)
        return
    if end < len(t) and _low(t[end]) in _COORDINATORS and t[start] in _CLAUSE_PUNCT:
        start, end = start + 1, end + 1  # "X, she seems [sad] and her eyes ..." -> "X, her eyes ..."
    last_of_list = end == len(t) and t[start] == "," and _low(t[start + 1]) in _COORDINATORS
    coordinator = t[start + 1]
    del t[start:end]
    if after_comma:
        _orphaned_front(t, start)
    comma = max((k for k in range(len(t)) if t[k] == ","), default=None)
    if (last_of_list and comma is not None and not set(t[comma:]) & _CLAUSE_PUNCT - {","}
            and _is_clause_start(t, comma + 1)):
        t.insert(comma + 1, coordinator)  # "A, B, and [he frowns]" -> "A, and B", as lists go in Fig. 3


def _orphaned_front(t: list, at: int) -> None:
    """A phrase put before a clause that went: "As the clip ends" loses "As", "Throughout the clip" goes."""
    if at < len(t) and t[at] not in _CLAUSE_PUNCT - {","}:
        return
    begin = max((k + 1 for k in range(at) if t[k] in _CLAUSE_PUNCT - {","}), default=0)
    if begin == at or "," in t[begin:at]:
        return
    first = _low(t[begin]) or ""
    if first in _SUBORDINATORS:
        del t[begin]
    elif first in _FRONTED or (first,) in _PREPOSITIONS or first.endswith("ly"):
        del t[begin:at + 1 if begin == 0 else at]
        if begin > 0:
            del t[begin - 1]


def _make_finite(t: list) -> None:
    """"his upper lip raised" -> "his upper lip is raised": an absolute phrase left as the sentence."""
    if {_low(w) for w in t[:_clause_end(t, 0)]} & (_LINKING | _AUXILIARIES):
        return  # a clause with its verb: "her breathing is slow"
    for k in range(1, min(len(t), 7)):
        if not _is_word(t[k]):
            return
        if re.search(r"..(ing|ed)$", _low(t[k])) and _low(t[k]) not in _BODY_NOUNS:
            head = [_low(w) for w in t[:k]]
            noun = head[head.index("of") - 1] if "of" in head[1:] else head[-1]  # "the corners of his mouth"
            t.insert(k, "are" if noun.endswith("s") and not noun.endswith("ss") else "is")
            return


def _verb_chain_start(t: list, i: int) -> int:
    """First index of the verb chain ("has become", "seems to be", "is") that ends at ``t[i]``."""
    j = i
    while j > 0 and (_low(t[j - 1]) in _LINKING | _AUXILIARIES | {"to"}):
        j -= 1
    return j


_IRREGULAR_PAST = {"was", "were", "had", "did", "felt", "became", "grew", "got", "began", "wore", "hid", "gave",
                   "kept", "held", "shot"}


def _have_form(verb: str) -> str | None:
    """"has", "have" or "had" in the tense and number of ``verb``; None for a participle, "be" or a modal."""
    if verb in _IRREGULAR_PAST or verb.endswith("ed"):
        return "had"
    if verb in ("is", "'s", "has", "does") or (verb.endswith("s") and not verb.endswith("ss")):
        return "has"
    if verb in ("are", "am", "have", "do") or (verb in _LINKING | _CONVEYING and verb != "be"
                                               and not verb.endswith(("ing", "n"))):
        return "have"
    return None


def _be_form(have: str, subject: list) -> str:
    """The form of "be" agreeing with ``have`` (and, in the past, with the subject's last word)."""
    if have != "had":
        return "is" if have == "has" else "are"
    last = _low(subject[-1])
    return "were" if last in ("they", "we", "you") or re.search(r"[^s']s$", last) else "was"


def _dangling_verb(t: list) -> bool:
    """A verb whose complement was the emotion: rewrite ("is angry, with a scowl" -> "has a scowl",
    "seems nervous, glancing ..." -> "is glancing ...", "the tight lips suggest anger" -> "the tight lips
    are visible") or drop its clause ("His face shows anger and his eyes ..." -> "His eyes ...")."""
    for i, tok in enumerate(t):
        if not _is_gap(tok) or tok.pos == "adv" or i == 0:
            continue
        verb = _low(t[i - 1])
        if verb in _PRONOUNS or tok.pos == "verb":  # "as she [panics]", "as the noise [startles] her"
            _drop_clause(t, i)
            return True
        if verb in _PARTICLES and i > 1 and _low(t[i - 2]) in _PHRASAL_VERBS:
            del t[i - 1]  # "blinks back [tears]" -> "blinks [tears]"
            return True
        linking = verb in _LINKING
        if not linking and verb not in _CONVEYING:
            continue
        after = _low(t[i + 1]) if i + 1 < len(t) else None
        if linking and verb.startswith("look") and after in _LOOK_DIRECTIONS:
            del t[i]
            return True
        chain = _verb_chain_start(t, i - 1)
        if chain > 1 and _low(t[chain - 1]) in _COORDINATORS and _is_word(t[chain - 2]):
            del t[chain - 1:_predicate_end(t, i)]  # "rolls her eyes and lets out [a laugh]"
            return True
        start = _clause_start(t, chain)
        while start < chain and _low(t[start]) in _CONNECTORS | _OPENERS:
            start += 1
        subject = t[start:chain]
        if subject and (joined := _joined_verb(t, _predicate_end(t, i))) is not None:
            del t[chain:joined]  # "She wipes away [a tear] and looks down" -> "She looks down"
            return True
        form = _have_form(_low(t[chain])) if subject else None
        rest = i + 1 + (after == ",")
        follower = _low(t[rest]) if rest < len(t) else None
        introducer = next((n for n in _INTRODUCERS if tuple(_low(w) for w in t[rest:rest + len(n)]) == n), None)
        if introducer and not linking:  # "shows [joy] with raised cheeks" -> "shows raised cheeks"
            del t[i:rest + len(introducer)]
            return True
        if linking and form:
            end = _clause_end(t, i)
            if follower != "with" and end + 1 < len(t) and t[end] == "," and _low(t[end + 1]) == "with":
                rest, follower = end + 1, "with"  # "remains [neutral] throughout, with little movement"
            if follower == "with":
                t[chain:rest + 1] = [form]  # "He is [angry], with a scowl" -> "He has a scowl"
                return True
            if (begin := _front_with(t, start)) is not None:  # "With wide eyes, she looks [astonished]"
                t[begin:end] = subject + [form] + t[begin + 1:start - 1]
                return True
        if after == "," and form and re.search(r"...ing$", follower or "") and follower not in _NOT_PARTICIPLES:
            t[chain:rest] = [_be_form(form, subject)]
            return True
        if (linking and after == "," and form and (follower in _DETERMINERS or _is_possessive(t[rest]))
                and not {_low(w) for w in t[rest:_clause_end(t, rest)]} & (_AUXILIARIES | {"be"})):
            t[chain:rest] = [form]  # "He looks [sad], his gaze dropping" -> "He has his gaze dropping"
            return True
        if (not linking and form and _is_right_boundary(t, i + 1)
                and any(_is_word(w) and _low(w) not in _BARE_SUBJECTS for w in subject)):
            t[chain:i + 1] = [_be_form(form, subject), "visible"]
            return True
        _drop_clause(t, i)
        return True
    return False


def _lost_action(t: list) -> bool:
    """An expressive action that was a clause's verb goes with its adverbs and objects, and its subject
    takes the verb joined to it ("The girl [giggles] and covers her mouth" -> "The girl covers her mouth")
    or the participle after it ("He [grins] widely, showing his teeth" -> "He is showing his teeth")."""
    for i, tok in enumerate(t):
        if not _is_gap(tok) or tok.pos != "verb" or i == 0 or _low(t[i - 1]) in _LINKING | _AUXILIARIES | {"to"}:
            continue
        start = _clause_start(t, i)
        while start < i and _low(t[start]) in _CONNECTORS | _OPENERS:
            start += 1
        subject = t[start:i]
        if not subject or not all(map(_is_word, subject)):
            continue
        end = _predicate_end(t, i)
        if (joined := _joined_verb(t, end)) is not None:
            del t[i:joined]
            return True
        participle = (_low(t[end + 1]) if end + 1 < len(t) and t[end] == "," else None) or ""
        if re.search(r"...ing$", participle) and participle not in _NOT_PARTICIPLES:
            word = tok.word
            have = "had" if word.endswith("ed") or word in ("wept", "cried") else _have_form(word) or "has"
            t[i:end + 1] = [_be_form(have, subject)]
            return True
    return False


def _front_with(t: list, start: int) -> int | None:
    """Where a "With wide eyes," put before the clause starting at ``start`` begins, if there is one."""
    if start == 0 or t[start - 1] != ",":
        return None
    begin = max((k + 1 for k in range(start - 1) if t[k] in _CLAUSE_PUNCT - {","}), default=0)
    if _low(t[begin]) == "with" and "," not in t[begin:start - 1]:
        return begin
    return None


def _absolute_predicate(t: list) -> bool:
    """"his face [expressionless] and his mouth open": a subject left without its predicate goes."""
    for i, tok in enumerate(t):
        if not _is_gap(tok) or tok.pos != "adj" or not _is_right_boundary(t, i + 1):
            continue
        start = _clause_start(t, i)
        if (0 < i - start <= 3 and (_low(t[start]) in _DETERMINERS or _is_possessive(t[start]))
                and (start == 0 or t[start - 1] in _CLAUSE_PUNCT)):
            _drop_clause(t, i)
            return True
    return False


def _lost_subject(t: list) -> bool:
    """An emotion noun opening a clause was its subject: the clause goes ("Fear grips him as ...")."""
    for i, tok in enumerate(t):
        if not _is_gap(tok, nominal=True) or i + 1 >= len(t) or not _is_word(t[i + 1]):
            continue
        if _low(t[i + 1]) in _COORDINATORS or (_low(t[i + 1]),) in _PREPOSITIONS and tok.pos != "noun":
            continue
        before = t[i - 1] if i else None
        if before is None or before in _CLAUSE_PUNCT or _low(before) in _OPENERS | _COORDINATORS:
            if not _evidence_visible(t, i):
                _drop_clause(t, i)
            return True
    return False


def _evidence_visible(t: list, i: int) -> bool:
    """"[Sadness] is evident in her drooping eyelids" -> "Her drooping eyelids are visible"."""
    k = i + 1
    verb = _low(t[k])
    if verb not in ("is", "are", "was", "were", "seems", "seemed", "appears", "appeared", "remains"):
        return False
    k += 1
    while k < len(t) and _low(t[k]) in _DEGREE | {"also"}:
        k += 1
    if k + 2 >= len(t) or _low(t[k]) not in _EVIDENT or _low(t[k + 1]) not in ("in", "from", "through", "on", "by"):
        return False
    end = _clause_end(t, k + 2)
    evidence = t[k + 2:end]
    plural = "and" in map(_low, evidence) or re.search(r"[^s']s$", _low(evidence[-1])) is not None
    past = verb in ("was", "were") or verb.endswith("ed")
    be = ("were" if plural else "was") if past else ("are" if plural else "is")
    t[i:end] = evidence + [be, "visible"]
    return True


_RULES = (_absorb_modifiers, _merge_gaps, _absorb_noun_phrase, _complement, _coordination, _lost_action,
          _dangling_verb, _lost_subject, _absolute_predicate)


def _remove_gaps(t: list) -> None:
    """The gaps no rule took: drop each with the punctuation it leaves doubled."""
    i = 0
    while i < len(t):
        if not _is_gap(t[i]):
            i += 1
            continue
        before = t[i - 1] if i else None
        after = t[i + 1] if i + 1 < len(t) else None
        if before == "(" and after == ")":  # "The person (probably [anxious]) keeps ..."
            del t[i - 1:i + 2]
        elif before is None and after in _CLAUSE_PUNCT:  # "Angrily, he frowns."
            del t[i:i + 2]
        elif before == after and before in ("\u2014", "\u2013"):  # "She smiles \u2014 [joyfully] \u2014 and nods"
            del t[i - 1:i + 2]
        elif before in _CLAUSE_PUNCT and after in _CLAUSE_PUNCT:  # "He giggles, [amused], and ..."
            del t[i - 1:i + 1]
            if after == "," and not _is_clause_start(t, i):
                del t[i - 1]
        elif (before == "," and _is_word(after) and i > 2 and _is_word(t[i - 2])
              and (_low(t[i - 3]) in _DETERMINERS or t[i - 3] == ",")):
            del t[i - 1:i + 1]  # "a long, [defeated] sigh" -> "a long sigh"
        elif _low(before) in _DETERMINERS and after == ",":  # "a [happy], open smile" -> "an open smile"
            del t[i:i + 2]
        elif before in _CLAUSE_PUNCT and after is None:  # "..., [clearly upset]."
            del t[i - 1:i + 1]
        else:
            del t[i]
        i = max(i - 1, 0)


def _tidy(t: list) -> None:
    """No doubled or leading punctuation, no dangling last word, "a"/"an" agreeing with the next word."""
    changed = True
    while changed:
        changed = False
        if t and (t[0] in _CLAUSE_PUNCT or _low(t[0]) in _COORDINATORS):
            del t[0]
            changed = True
        if t and (t[-1] in _CLAUSE_PUNCT or _low(t[-1]) in _DANGLING_TAIL):
            del t[-1]
            changed = True
        for i in range(len(t) - 1):
            if t[i] in _CLAUSE_PUNCT and (t[i + 1] in _CLAUSE_PUNCT or _low(t[i + 1]) in _DANGLING_TAIL
                                          and i + 2 < len(t) and t[i + 2] in _CLAUSE_PUNCT):
                del t[i + 1]
                changed = True
                break
            if _low(t[i]) in _DANGLING_TAIL and t[i + 1] in _CLAUSE_PUNCT:
                del t[i]
                changed = True
                break
    for i in range(len(t) - 1):
        moved_up = getattr(t[i + 1], "position", -1) != getattr(t[i], "position", -1) + 1
        if _low(t[i]) in ("a", "an") and _is_word(t[i + 1]) and moved_up:  # "an [angry] scowl" -> "a scowl"
            vowel = re.match(r"[aio]|e(?!u)|u(?!ni|s[eu]|ti|r[aeiou])|hour|honest|heir", _low(t[i + 1]))
            t[i] = t[i][0] + ("n" if vowel else "")


def _render(tokens: list[str], end: str) -> str:
    """The tokens spaced as in the text they came from (words the rules wrote in get a space)."""
    text = tokens[0]
    for prev, tok in zip(tokens, tokens[1:]):
        spaced = getattr(tok, "spaced", True) or (_is_word(prev) and _is_word(tok))
        text += (" " if spaced and tok not in ",;:" else "") + tok
    return text[0].upper() + text[1:] + end


def _repair(tokens: list, end: str) -> str:
    """The sentence's tokens (gaps standing for emotion words) as a grammatical sentence, or ""."""
    changed = True
    while changed:
        changed = any(rule(tokens) for rule in _RULES)
    _remove_gaps(tokens)
    _tidy(tokens)
    return _render(tokens, end) if sum(_is_word(t) for t in tokens) >= 2 else ""


def remove_leakage(text: str, extra_words=(), keep_expressive_actions: bool = False) -> tuple[str, list[str]]:
    """Remove the words that name an emotion from ``text``, and the expressive actions that imply one
    (smile, laugh, tears, frown, ...) unless ``keep_expressive_actions``, keeping every sentence a sentence.

    ``extra_words`` (a dataset's class names, the configured extra words) are removed too, single words
    with their derived forms. Returns the cleaned text and the removed words in order of appearance.
    """
    custom = extra_words or keep_expressive_actions
    bases = base_words(extra_words, keep_expressive_actions) if custom else None
    phrases = {**EMOTION_PHRASES, "adj": EMOTION_PHRASES["adj"] + tuple(
        w.strip().lower() for w in extra_words if " " in w.strip())}
    removed, out = [], []
    for sentence, space in re.findall(r"(.*?[.!?]+|.+?$)(\s*)", text, flags=re.DOTALL):
        body = sentence.rstrip(".!?")
        end = sentence[len(body):] or "."
        tokens, found = _mark(_tokenize(body), bases, phrases, not keep_expressive_actions)
        if not found:
            out.append(sentence + space)
            continue
        removed += found
        if cleaned := _repair(tokens, end):
            out.append(cleaned + (space or " "))
    return "".join(out).rstrip() + text[len(text.rstrip()):], removed
