"""The label-leakage filter: emotion words and expressive actions (smile, tears, frown, ...) go in all their
forms, facial movements stay, sentences stay sentences.

The measured test runs the filter over tests/data/leakage_sentences.yaml (VLM-style descriptions with the
emotion words and expressive actions that must go, the facial-movement words that must stay and the
original's finite verbs).

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
    """Every emotion word and expressive action removed, 95% of facial-movement words kept, every output a
    sentence."""
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
    print(f"\nleakage filter on {len(SENTENCES)} sentences: emotion words and expressive actions removed "
          f"{removed_rate:.1%} ({emotion_total - emotion_left}/{emotion_total}), facial-movement words kept "
          f"{kept_rate:.1%} ({action_kept}/{action_total}), output sentences well-formed {sentence_rate:.1%} "
          f"({sentences_out - len(broken)}/{sentences_out})")
    assert removed_rate == 1
    assert kept_rate >= 0.95
    assert not broken, broken


#: The paper's Fig. 3: the MLLM's text and the refined text, verbatim.
FIG3_GENERATED = ("The man's mouth is slightly open, revealing his teeth, and his eyes are squinting, indicating a "
                  "sense of joy or amusement. The facial expression is characterized by a slight upturned mouth, "
                  "relaxed eyebrows, and a slight smile.")
FIG3_REFINED = ("The man's mouth is slightly open, revealing his teeth, and his eyes are squinting. The facial "
                "expression is characterized by a slight upturned mouth, and relaxed eyebrows.")


def test_refines_fig3_as_the_paper():
    assert remove_leakage(FIG3_GENERATED) == (FIG3_REFINED, ["joy", "amusement", "smile"])
    kept, removed = remove_leakage(FIG3_GENERATED, keep_expressive_actions=True)
    assert removed == ["joy", "amusement"] and kept.endswith("relaxed eyebrows, and a slight smile.")


#: Sentences with expressive actions, cleaned by default (first) and with ``keep_expressive_actions`` (second).
EXPRESSIVE = [
    ("She is smiling broadly and laughing. Her eyes crinkle.", "Her eyes crinkle."),
    ("He is in tears, sobbing. His chin quivers.", "His chin quivers."),
    ("He frowns and scowls at the camera. His jaw tightens.", "His jaw tightens."),
    ("The corners of her mouth rise into a broad grin, and her cheeks lift.",
     "The corners of her mouth rise, and her cheeks lift."),
    ("His eyebrows are drawn together in a deep frown.", "His eyebrows are drawn together."),
    ("The man sneers and wrinkles his nose.", "The man wrinkles his nose."),
    ("He laughs loudly, throwing his head back.", "He is throwing his head back."),
    ("He chuckles softly, the corners of his mouth lifting.", "The corners of his mouth are lifting."),
    ("Crying, the child rubs her eyes with her fists.", "The child rubs her eyes with her fists."),
    ("The teenager keeps smiling while his eyebrows lift and fall.", "His eyebrows lift and fall."),
    ("Her smiling eyes narrow slightly.", "Her eyes narrow slightly."),
    ("Tears stream down her cheeks as her chin quivers.", "Her chin quivers."),
    ("Her laughter fades and her lips press together.", "Her lips press together."),
    ("She wipes away a tear and looks down.", "She looks down."),
    ("He smiled at the camera and then looked away.", "He looked away."),
    ("She rolls her eyes and lets out a short laugh.", "She rolls her eyes."),
    ("He looks at the camera with raised cheeks, crinkled eyes and a broad smile.",
     "He looks at the camera with raised cheeks and crinkled eyes."),
    ("Her face shows a frown, tight lips, and lowered brows.", "Her face shows tight lips and lowered brows."),
    ("The man nods, blinks, and frowns slightly.", "The man nods, and blinks."),
    ("The brows draw together, the lips press, and he frowns.", "The brows draw together, and the lips press."),
    ("He is visibly angry, with a scowl and clenched jaw.", "He has a clenched jaw."),
    ("He begins to cry, clearly frightened by something.", ""),
]


@pytest.mark.parametrize("raw, cleaned", EXPRESSIVE)
def test_expressive_actions_are_removed(raw, cleaned):
    assert remove_leakage(raw)[0] == cleaned
    assert all(not sentence_problems(s, words(raw)) for s in split_sentences(cleaned))


@pytest.mark.parametrize("raw", [raw for raw, _ in EXPRESSIVE[:20]])
def test_expressive_actions_kept_on_request(raw):
    assert remove_leakage(raw, keep_expressive_actions=True) == (raw, [])


@pytest.mark.parametrize("raw, cleaned", [
    ("He is visibly angry, with a scowl and clenched jaw.", "He has a scowl and clenched jaw."),
    ("He frowns with a sense of dread.", "He frowns."),
    ("She gives a joyful smile.", "She gives a smile."),
    ("An angry scowl crosses his face.", "A scowl crosses his face."),
    ("Angrily, he frowns.", "He frowns."),
    ("He frowns angrily.", "He frowns."),
    ("He begins to cry, clearly frightened by something.", "He begins to cry."),
])
def test_emotion_words_around_kept_actions(raw, cleaned):
    assert remove_leakage(raw, keep_expressive_actions=True)[0] == cleaned


@pytest.mark.parametrize("raw, cleaned", [
    ("His face shows anger and his eyes dart around.", "His eyes dart around."),
    ("She looks happy and relaxed.", "She looks relaxed."),
    ("She looks relaxed and happy.", "She looks relaxed."),
    ("He looks tense, anxious and tired.", "He looks tense and tired."),
    ("The lips press together in an expression of fear.", "The lips press together."),
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
    "smile", "smiling", "smiled", "smiles", "grin", "grinning", "grinned", "smirk", "smirking", "laugh", "laughs",
    "laughing", "laughter", "giggle", "giggling", "chuckle", "chuckled", "cry", "cries", "cried", "crying", "tears",
    "tearful", "teary-eyed", "sob", "sobbing", "weep", "wept", "frown", "frowning", "frowned", "scowl", "scowling",
    "sneer", "sneering", "pout", "pouting", "grimace", "grimacing", "gasp", "gasped", "glare", "half-smile",
])
def test_expressive_actions_are_caught_unless_kept(word):
    assert is_emotion_word(word)
    assert not is_emotion_word(word, keep_expressive_actions=True)


@pytest.mark.parametrize("word", [
    "raise", "raised", "wrinkle", "wrinkled", "press", "pressed", "widen", "widened", "narrow", "squint", "clench",
    "clenched", "purse", "tremble", "trembling", "wince", "sigh", "blush", "relaxed", "tense", "tension", "restless",
    "downcast", "made", "madam", "cross", "crossed", "down", "content", "concerning", "expression", "feel", "scarf",
    "saddle", "tired", "blank", "sober", "soberly", "mouth", "corners", "lips", "brows",
])
def test_facial_movements_and_look_alikes_are_kept(word):
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
