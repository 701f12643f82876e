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

_PHRASES = re.compile(
    r"\b(?:an?\s+)?(?:expressions?|feelings?|signs?|sense)\s+of\s+(?:\w+\s+)?(?=[,.;]|$)", re.IGNORECASE)


def _word_pattern(words) -> re.Pattern:
    alternatives = "|".join(sorted({re.escape(w.lower()) for w in words}, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


def remove_leakage(text: str, extra_words=()) -> tuple[str, list[str]]:
    """Remove emotion words (and ``extra_words``, e.g. the dataset's class names) from ``text``.

    Returns the cleaned text and the removed words in order of appearance.
    """
    pattern = _word_pattern(tuple(EMOTION_WORDS) + tuple(extra_words))
    removed = [m.group(0) for m in pattern.finditer(text)]
    cleaned = pattern.sub("", text)
    cleaned = _PHRASES.sub("", cleaned)  # "an expression of" left without its object
    cleaned = re.sub(r"\b(?:and|or|a|an|the|very|quite|slightly)\s+(?=[,.;])", "", cleaned, flags=re.IGNORECASE)
    cleaned = re.sub(r"\s+([,.;:])", r"\1", cleaned)
    cleaned = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", cleaned)
    cleaned = re.sub(r",\s*\.", ".", cleaned)
    cleaned = re.sub(r"\s{2,}", " ", cleaned).strip()
    return cleaned, removed
