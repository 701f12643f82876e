"""A sentence as tokens (words and punctuation that remember their place), and the matching that replaces
each emotion word or phrase, and each expressive action, by a :class:`Gap` naming its grammatical role."""

from __future__ import annotations

import re

from ..emotion_words import AFTER_FEEL, FEEL_FORMS, action_roles, emotion_pos
from .words import (
    AUXILIARIES,
    BARE_SUBJECTS,
    BODY_NOUNS,
    COORDINATORS,
    DEGREE,
    DETERMINERS,
    LINKING,
    NOT_ADJECTIVES,
    NOUN_MODIFIERS,
    PREPOSITIONS,
    PRONOUNS,
)

TOKEN = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*|\S")


class Token(str):
    """A word or punctuation mark that remembers its place in the sentence and whether a space stood
    before it (words the rules write in are plain strings)."""

    position = -1
    spaced = True


def tokenize(text: str) -> list[Token]:
    tokens = []
    for position, match in enumerate(TOKEN.finditer(text)):
        token = Token(match.group())
        token.position, token.spaced = position, match.start() > 0 and text[match.start() - 1].isspace()
        tokens.append(token)
    return tokens


class Gap:
    """Where removed words stood; ``pos`` is their grammatical role (adv, adj, noun or verb), ``word`` the
    word removed (lower case; empty where gaps merged)."""

    __slots__ = ("pos", "listed", "word")

    def __init__(self, pos: str, listed: bool = False, word: str = ""):
        self.pos, self.listed, self.word = pos, listed, word  # listed: already joins several by "and"/"or"


def low(token) -> str | None:
    return token.lower().replace("\u2019", "'") if isinstance(token, str) else None


def is_gap(token, nominal: bool | None = None) -> bool:
    if not isinstance(token, Gap):
        return False
    return nominal is None or (token.pos in ("noun", "verb")) == nominal


def is_word(token) -> bool:
    return isinstance(token, str) and token[0].isalnum()


def is_possessive(token) -> bool:
    return is_word(token) and low(token).endswith("'s")


#: Words after which an expressive action that may be noun or verb is a verb ("she smiles", "to smile").
BEFORE_VERB = PRONOUNS | AUXILIARIES | COORDINATORS | BODY_NOUNS | (BARE_SUBJECTS - DETERMINERS) | {
    "to", ",", "then", "also", "still", "just", "only", "often", "that", "which", "lady", "people", "men",
    "women", "children", "girls", "boys", "kid", "baby"}


def action_pos(lowered: list[str], i: int, roles: set[str]) -> str:
    """The part of speech of the expressive action at ``i`` in its sentence: "smiles" is a verb after a
    subject, "to" or "and", else a noun; "smiled" and "smiling" are verbs unless an article or a linking
    verb comes before them."""
    before = lowered[i - 1] if i else None
    adverb = before and before.endswith("ly") and (i < 2 or lowered[i - 2] not in DETERMINERS)
    if roles == {"noun", "verb"}:
        return "verb" if before in BEFORE_VERB or adverb else "noun"
    if roles == {"adj"} and lowered[i].endswith(("ed", "ing")) and before not in DETERMINERS | LINKING:
        return "verb"  # "he smiled", "Smiling warmly, ..."; not "a smiling face", "is smiling"
    return roles.pop()


def mark_emotions(tokens: list[str], bases: dict[str, str], phrases: dict[str, tuple],
          actions: bool = True) -> tuple[list, list[str]]:
    """The tokens with each emotion word or phrase (and, with ``actions``, each expressive action) replaced
    by a gap, and the words replaced."""
    out, removed, i = [], [], 0
    lowered = [low(t) for t in tokens]
    while i < len(tokens):
        match = next(((len(p.split()), pos) for pos, group in phrases.items() for p in group
                      if lowered[i:i + len(p.split())] == p.split()), None)
        if match is None and lowered[i] in AFTER_FEEL and i and lowered[i - 1] in FEEL_FORMS:
            match = (1, "adj")
        if match is None and is_word(tokens[i]):
            pos = emotion_pos(tokens[i], bases)
            if lowered[i] == "feeling":  # a noun after an article or adjective, else the verb "feel"
                before = lowered[i - 1] if i else ""
                after = lowered[i + 1] if i + 1 < len(tokens) else ""
                adjective = before in NOUN_MODIFIERS - DEGREE
                pos = "noun" if (before in DETERMINERS or adjective) and after != "of" else None
            if pos and actions and (roles := action_roles(tokens[i])):
                pos = action_pos(lowered, i, roles)
                if pos == "noun" and (article := article_before(out)) is not None:
                    del out[article + 1:]  # "a wide, toothy [smile]": the adjectives describe the action
            match = (1, pos) if pos else None
        if match is None:
            out.append(tokens[i])
            i += 1
            continue
        length, pos = match
        removed.append(" ".join(tokens[i:i + length]))
        out.append(Gap(pos, word=lowered[i] if length == 1 else ""))
        i += length
    return out, removed


def article_before(tokens: list) -> int | None:
    """Index of the article (or possessive) that one to three adjectives at the end of ``tokens``
    follow ("a wide, toothy"); None if ``tokens`` does not end so."""
    k = len(tokens) - 1
    while k >= 0 and len(tokens) - k <= 4 and (tokens[k] == ","
                                               or is_gap(tokens[k]) and tokens[k].pos in ("adj", "adv")
                                               or is_word(tokens[k]) and low(tokens[k]) not in NOT_ADJECTIVES | DEGREE
                                               and (low(tokens[k]),) not in PREPOSITIONS):
        if low(tokens[k]) in DETERMINERS or is_possessive(tokens[k]):
            return k if k < len(tokens) - 1 and tokens[k + 1] != "," else None
        k -= 1
    return None
