"""The label-leakage filter: emotion words go in all their forms, facial actions stay, sentences stay sentences.

The measured test runs the filter over tests/data/leakage_sentences.yaml (VLM-style descriptions with the
emotion words that must go, the facial-action words that must stay and the original's finite verbs).

What counts as a sentence here (:func:`sentence_problems`): it is not empty; starts with a capital
letter and ends with one of ``.!?``; has no doubled space, no space before punctuation, no two
punctuation marks in a row; does not start with "and"/"or"/"but"; has no word that needs a complement
("of", "with", "the", "is", "looks", "shows", "very", ...) right before punctuation, before "and"/"or" or
at its end; has "a"/"an" agreeing with the next word; and still holds a finite verb: one of the
original sentence's (listed per item) or a form of "be"/"have", the only verbs the filter writes in.
"""

import re
from pathlib import Path

import pytest
import yaml

from fineclipper.describe.emotion_words import is_emotion_word
from fineclipper.describe.landmarks import FEATURES
from fineclipper.describe.leakage import remove_leakage

SENTENCES = yaml.safe_load((Path(__file__).parent / "data" / "leakage_sentences.yaml").read_text())
BE_HAVE = {"is", "are", "was", "were", "has", "have", "had"}
#: Words that cannot stand before punctuation, "and"/"or" or the end of a sentence.
NEEDS_COMPLEMENT = {
    "a", "an", "the", "his", "their", "its", "of", "with", "in", "into", "at", "to", "from", "by", "for",
    "toward", "towards", "is", "are", "was", "were", "be", "been", "being", "seems", "seem", "seemed",
    "appears", "appear", "appeared", "looks", "looked", "feels", "feel", "felt", "becomes", "become",
    "became", "shows", "show", "showing", "displays", "expresses", "expressing", "conveys", "conveying",
    "suggests", "suggesting", "indicates", "indicating", "reveals", "revealing", "betrays", "betraying",
    "radiates", "exudes", "registers", "reflects", "reflecting", "signals", "very", "quite", "so", "too",
    "rather", "visibly", "extremely",
}


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:['\-][a-z0-9]+)*", text.lower())


def split_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def sentence_problems(sentence: str, verbs) -> list[str]:
    """Why ``sentence`` is not a sentence by the definition in this module's docstring (empty if it is)."""
    problems = []
    tokens = words(sentence)
    if not tokens:
        return ["empty"]
    if not sentence[0].isupper():
        problems.append("not capitalised")
    if sentence[-1] not in ".!?" or re.search(r"[.!?]", sentence[:-1]):
        problems.append("not one sentence ending in . ! or ?")
    if "  " in sentence or re.search(r"\s[,;:.!?]", sentence) or re.search(r"[,;:.!?]{2}", sentence):
        problems.append("doubled space or orphan punctuation")
    if tokens[0] in ("and", "or", "but"):
        problems.append("starts with a conjunction")
    marked = re.findall(r"[A-Za-z0-9]+(?:['\-][A-Za-z0-9]+)*|[,;:.!?]", sentence)
    for word, following in zip(marked, marked[1:] + ["."]):
        if word.lower() in NEEDS_COMPLEMENT and (following in ",;:.!?" or following.lower() in ("and", "or")):
            problems.append(f"dangling {word!r}")
        if word.lower() == "a" and re.match(r"[aeio]", following.lower()) or \
                word.lower() == "an" and re.match(r"[^aeiouh,;:.!?]", following.lower()):
            problems.append(f"{word!r} before {following!r}")
    if not set(tokens) & ({v.lower() for v in verbs} | BE_HAVE):
        problems.append("no finite verb")
    return problems


def test_sentence_check_rejects_broken_clauses():
    assert sentence_problems("His face shows and his eyes dart around.", ["shows", "dart"]) == ["dangling 'shows'"]
    assert sentence_problems("He is visibly, with a scowl and clenched jaw.", ["is"]) == ["dangling 'visibly'"]
    assert sentence_problems("with a scowl.", ["is"]) == ["not capitalised", "no finite verb"]
    assert sentence_problems("She gives an smile.", ["gives"]) == ["'an' before 'smile'"]
    assert sentence_problems("The lips press together.", ["press"]) == []


def count(text_words: list[str], word: str) -> int:
    return text_words.count(word.lower())


def test_measured_sentences():
    """At least 95% of emotion words removed, 95% of facial-action words kept, every output a sentence."""
    assert len(SENTENCES) >= 50
    emotion_total = emotion_left = action_total = action_kept = 0
    broken = []
    for item in SENTENCES:
        cleaned, removed = remove_leakage(item["text"])
        before, after = words(item["text"]), words(cleaned)
        for word in item["remove"]:
            emotion_total += count(before, word)
            emotion_left += count(after, word)
            assert word.lower() in map(str.lower, removed), (item["text"], word)
        for word in item["keep"]:
            action_total += count(before, word)
            action_kept += min(count(after, word), count(before, word))
        broken += [(item["text"], s, p) for s in split_sentences(cleaned)
                   if (p := sentence_problems(s, item["verbs"]))]
        if not item["remove"]:
            assert cleaned == item["text"]
    sentences_out = sum(len(split_sentences(remove_leakage(i["text"])[0])) for i in SENTENCES)
    removed_rate = 1 - emotion_left / emotion_total
    kept_rate = action_kept / action_total
    sentence_rate = 1 - len(broken) / sentences_out
    print(f"\nleakage filter on {len(SENTENCES)} sentences: emotion words removed {removed_rate:.1%} "
          f"({emotion_total - emotion_left}/{emotion_total}), facial-action words kept {kept_rate:.1%} "
          f"({action_kept}/{action_total}), output sentences well-formed {sentence_rate:.1%} "
          f"({sentences_out - len(broken)}/{sentences_out})")
    assert removed_rate >= 0.95
    assert kept_rate >= 0.95
    assert not broken, broken


@pytest.mark.parametrize("raw, cleaned", [
    ("His face shows anger and his eyes dart around.", "His eyes dart around."),
    ("He is visibly angry, with a scowl and clenched jaw.", "He has a scowl and clenched jaw."),
    ("She looks happy and relaxed.", "She looks relaxed."),
    ("She looks relaxed and happy.", "She looks relaxed."),
    ("He looks tense, anxious and tired.", "He looks tense and tired."),
    ("The lips press together in an expression of fear.", "The lips press together."),
    ("He frowns with a sense of dread.", "He frowns."),
    ("She gives a joyful smile.", "She gives a smile."),
    ("An angry scowl crosses his face.", "A scowl crosses his face."),
    ("Angrily, he frowns.", "He frowns."),
    ("He frowns angrily.", "He frowns."),
    ("She seems nervous, glancing toward the door.", "She is glancing toward the door."),
    ("Her furrowed brows and downturned mouth suggest sadness.",
     "Her furrowed brows and downturned mouth are visible."),
    ("Sadness is evident in her drooping eyelids.", "Her drooping eyelids are visible."),
    ("The eyebrows rise, suggesting surprise. The mouth opens.", "The eyebrows rise. The mouth opens."),
    ("He seems sad. The mouth opens.", "The mouth opens."),
    ("She looks terrified as her eyes widen.", "Her eyes widen."),
    ("Fear grips him as his eyes dart toward the door.", "His eyes dart toward the door."),
    ("His eyebrows rise, suggesting that he is surprised.", "His eyebrows rise."),
    ("With wide eyes, the child looks astonished.", "The child has wide eyes."),
    ("At the start, he looks calm; later, his brows lower.", "Later, his brows lower."),
    ("He begins to cry, clearly frightened by something.", "He begins to cry."),
])
def test_grammatical_repairs(raw, cleaned):
    assert remove_leakage(raw)[0] == cleaned


@pytest.mark.parametrize("word", [
    "happy", "happily", "happiness", "happier", "unhappy", "joy", "joyful", "joyfully", "joyous", "glee",
    "gleeful", "elated", "elation", "horror", "horrified", "horrific", "scare", "scared", "scary", "fright",
    "frightened", "terror", "terrified", "fury", "furious", "infuriated", "disgust", "disgusted",
    "disgusting", "contempt", "contemptuous", "scornful", "anxious", "anxiety", "nervous", "nervously",
    "helpless", "helplessness", "disappointed", "disappointment", "sad", "sadly", "sadder", "angry",
    "angrily", "surprise", "surprisingly", "afraid", "fearful", "fearless", "neutral", "calm", "upset",
    "panicked", "worried", "emotion", "emotional", "emotionally", "mood", "panic-stricken",
])
def test_emotion_word_families_are_caught(word):
    assert is_emotion_word(word)


@pytest.mark.parametrize("word", [
    "smile", "smiling", "smiles", "frown", "frowning", "grin", "grinning", "scowl", "scowling", "raise",
    "raised", "wrinkle", "wrinkled", "press", "pressed", "widen", "widened", "narrow", "squint", "clench",
    "clenched", "purse", "pout", "sneer", "sneering", "tremble", "trembling", "grimace", "smirk", "glare",
    "wince", "gasp", "sigh", "blush", "tearful", "relaxed", "tense", "tension", "restless", "downcast",
    "made", "madam", "cross", "crossed", "down", "content", "concerning", "expression", "feel", "scarf",
    "saddle", "tired", "blank",
])
def test_facial_actions_and_look_alikes_are_kept(word):
    assert not is_emotion_word(word)


def test_context_words():
    assert remove_leakage("She is feeling the edge of the table.")[1] == []
    assert remove_leakage("He looks down, feeling down.") == ("He looks down.", ["down"])
    assert remove_leakage("A strong feeling shows on her face; her lips part.")[1] == ["feeling"]


def test_extra_words_with_their_forms():
    text, removed = remove_leakage("He looks hangry; his jaw tightens hangrily.", extra_words=("Hangry",))
    assert removed == ["hangry", "hangrily"] and text == "His jaw tightens."


def test_template_sentences_come_through_unchanged():
    for _, grows, shrinks in FEATURES.values():
        for clause in (grows, shrinks):
            for degree in ("slightly", "clearly", "strongly"):
                text = (f"The face is visible in 12 of 12 frames. {clause[0].upper() + clause[1:]}, {degree}, "
                        "early in the clip, then back as at the start. The eyes blink 2 times.")
                assert remove_leakage(text) == (text, [])
    still = "The face is visible in 3 of 4 frames. The mouth, brows, eyes and head stay still throughout."
    assert remove_leakage(still) == (still, [])


def test_whitespace_between_sentences_is_kept():
    text = "The brows lower.\n\nShe looks sad.  The mouth opens.\n"
    assert remove_leakage(text) == ("The brows lower.\n\nThe mouth opens.\n", ["sad"])
