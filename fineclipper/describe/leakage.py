"""Label leakage filter: removes words that name an emotion, as the paper does with MLLM descriptions."""

from __future__ import annotations

import re

#: Emotion words and their common forms (the DFEW/FERV39k/MAFW classes and near synonyms).
EMOTION_WORDS = (
    "happy", "happier", "happiest", "happily", "happiness", "joy", "joyful", "joyous", "cheerful", "delighted",
    "glad", "pleased", "amused", "sad", "sadder", "saddest", "sadly", "sadness", "sorrow", "sorrowful",
    "unhappy", "grief", "grieving", "gloomy", "melancholy", "depressed", "upset", "neutral", "neutrality",
    "calm", "expressionless", "emotionless", "angry", "angrier", "angrily", "anger", "furious", "fury", "rage",
    "enraged", "irritated", "annoyed", "mad", "hostile", "surprise", "surprised", "surprising", "surprisingly",
    "astonished", "astonishment", "amazed", "amazement", "shocked", "shock", "startled", "disgust",
    "disgusted", "disgusting", "revulsion", "repulsed", "fear", "fearful", "fearfully", "afraid", "scared",
    "frightened", "terrified", "terror", "panic", "panicked", "contempt", "contemptuous", "disdain", "scorn",
    "anxiety", "anxious", "anxiously", "nervous", "nervousness", "worried", "worry", "helpless",
    "helplessness", "disappointed", "disappointment", "disappointing", "emotion", "emotions", "emotional",
    "mood",
)

#: "in an expression of" and the like, left empty once the emotion word is gone.
_EMPTY_PHRASE = re.compile(
    r"\b(?:(?:in|with|showing)\s+)?(?:an?\s+|the\s+)?(?:expressions?|feelings?|senses?|signs?|looks?)\s+of\s*$",
    re.IGNORECASE)
#: Words that cannot end a clause once what followed them was removed.
_DANGLING = re.compile(
    r"\s*\b(?:and|or|but|with|of|in|a|an|the|very|quite|slightly|somewhat|looks?|seems?|appears?|feels?|is|are|"
    r"was|were|be|becomes?|showing|shows?|expressing|expresses)\s*$", re.IGNORECASE)


def _word_pattern(words) -> re.Pattern:
    alternatives = "|".join(sorted({re.escape(w.lower()) for w in words}, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


def _clean_clause(clause: str, pattern: re.Pattern) -> str:
    """The clause without emotion words and the words left dangling; empty if too little remains."""
    text = pattern.sub("", clause)
    text = re.sub(r"\s{2,}", " ", text)
    previous = None
    while previous != text:
        previous = text
        text = _EMPTY_PHRASE.sub("", text)
        text = _DANGLING.sub("", text)
    return text if len(text.split()) >= 3 else ""


def remove_leakage(text: str, extra_words=()) -> tuple[str, list[str]]:
    """Remove emotion words (and ``extra_words``, e.g. the dataset's class names) from ``text``.

    A clause that named an emotion loses the word and what it leaves dangling ("looks", "an
    expression of"); if fewer than three words remain the clause goes. Returns the cleaned text and
    the removed words in order of appearance.
    """
    pattern = _word_pattern(tuple(EMOTION_WORDS) + tuple(extra_words))
    removed = [m.group(0) for m in pattern.finditer(text)]
    if not removed:
        return text, removed
    pieces = re.split(r"([,;:.!?])", text)
    out = []
    for i in range(0, len(pieces), 2):
        clause, delim = pieces[i], pieces[i + 1] if i + 1 < len(pieces) else ""
        kept = _clean_clause(clause, pattern) if pattern.search(clause) else clause
        if kept.strip():
            out.append(kept.rstrip() + delim)
        elif delim in ".!?" and out and out[-1][-1:] in ",;:":
            out[-1] = out[-1][:-1] + delim  # the sentence ended with the dropped clause
    cleaned = re.sub(r"\s{2,}", " ", " ".join(p.strip() for p in out)).strip()
    cleaned = re.sub(r"\s+([,;:.!?])", r"\1", cleaned)
    cleaned = re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), cleaned)
    return cleaned, removed
