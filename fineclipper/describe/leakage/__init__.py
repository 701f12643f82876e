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

from ..emotion_words import EMOTION_PHRASES, base_words
from .repair import repair_sentence
from .tokens import mark_emotions, tokenize


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
        tokens, found = mark_emotions(tokenize(body), bases, phrases, not keep_expressive_actions)
        if not found:
            out.append(sentence + space)
            continue
        removed += found
        if cleaned := repair_sentence(tokens, end):
            out.append(cleaned + (space or " "))
    return "".join(out).rstrip() + text[len(text.rstrip()):], removed
