"""Words that name an emotion, found in all their derived forms.

:data:`EMOTION_LEXICON` lists base words per class and part of speech; :func:`emotion_pos` finds derived
forms by undoing English suffixes one at a time (``-ly``, ``-ness``, ``-ful``, ``-ed``, ``-ing``, ``-er``,
``-y``, ``-ion``, plurals, the ``un-`` prefix), so "joyfully" -> "joyful" -> "joy" and "horrified" ->
"horrify". A word is only ever reduced to a listed base, never stemmed bluntly: "made" is not "mad",
"content" is not "contented", "crossed" and "down" name no emotion. :data:`NOT_EMOTION` holds the few
words whose suffixes reduce them to a base by accident. Hand-written rather than taken from an emotion
lexicon: the maintained ones (NRC EmoLex, WordNet-Affect) may not be shipped or used commercially, and
they list words by association, which would strip the facial movements we describe.

:data:`EXPRESSIVE_ACTIONS` lists the actions that all but name an emotion (smile, laugh, tears, frown,
scowl, ...). The paper's refinement (its Fig. 3) removes them with the emotion words, and so do we by
default; ``keep_expressive_actions`` keeps them. The movements they are made of (the corners of the mouth
rise, the brows draw together, the lips press) are never removed.
"""

from __future__ import annotations

import re

#: Base words that name an emotion, per class (the 11 MAFW classes, a superset of DFEW's and FERV39k's
#: 7) and part of speech. ``other`` holds emotions outside the classes and generic words for a state.
#: Left out on purpose, as movements or muscle states: wince, tremble, sigh, blush, tense, tension, relaxed,
#: downcast, restless, blank; expressive actions (smile, frown, ...) are :data:`EXPRESSIVE_ACTIONS`.
EMOTION_LEXICON = {
    "happiness": {
        "adj": "happy glad joyful joyous gleeful cheerful cheery elated delighted pleased pleasant contented "
               "merry jubilant ecstatic euphoric blissful thrilled excited exuberant overjoyed jolly jovial "
               "exhilarated upbeat buoyant carefree lighthearted light-hearted satisfied gratified grateful "
               "relieved triumphant proud amused",
        "noun": "happiness joy glee elation delight cheer pleasure contentment amusement merriment jubilation "
                "ecstasy euphoria bliss excitement exuberance enjoyment satisfaction gratitude relief triumph "
                "pride exhilaration",
        "verb": "amuse enjoy excite thrill elate gratify",
    },
    "sadness": {
        "adj": "sad unhappy sorrowful mournful gloomy glum melancholy melancholic dejected despondent "
               "downhearted heartbroken miserable forlorn somber sombre woeful wistful depressed desolate "
               "crestfallen lonely morose doleful disconsolate upset pained",
        "noun": "sadness sorrow grief gloom melancholy dejection despondency heartbreak misery woe depression "
                "loneliness anguish",
        "verb": "sadden grieve mourn",
    },
    "neutral": {
        "adj": "neutral calm serene tranquil placid impassive expressionless emotionless unemotional "
               "indifferent apathetic nonchalant bored stoic peaceful unbothered unfazed unperturbed",
        "noun": "neutrality serenity tranquility tranquillity composure indifference apathy nonchalance "
                "boredom stoicism",
        "verb": "calm",
    },
    "anger": {
        "adj": "angry furious irate livid enraged infuriated irritated irritable annoyed mad hostile "
               "indignant resentful outraged wrathful incensed seething fuming irked vexed exasperated "
               "frustrated aggravated grumpy grouchy cranky sullen sulky bitter hateful spiteful belligerent",
        "noun": "anger fury rage ire irritation annoyance hostility indignation resentment outrage wrath "
                "exasperation frustration aggravation bitterness hatred hate spite animosity",
        "verb": "anger enrage infuriate irritate annoy madden resent irk vex exasperate frustrate aggravate sulk",
    },
    "surprise": {
        "adj": "surprised astonished amazed astounded stunned shocked startled dumbfounded flabbergasted "
               "awestruck incredulous bewildered perplexed puzzled confused disbelieving",
        "noun": "surprise astonishment amazement shock awe disbelief incredulity bewilderment perplexity "
                "confusion wonderment",
        "verb": "astonish amaze astound stun startle bewilder perplex puzzle confuse dumbfound",
    },
    "disgust": {
        "adj": "disgusted revolted repulsed repulsive repugnant sickened nauseated appalled averse",
        "noun": "disgust revulsion repulsion repugnance distaste loathing aversion abhorrence",
        "verb": "repulse sicken nauseate appall appal loathe abhor",
    },
    "fear": {
        "adj": "afraid fearful scared frightened terrified horrified petrified apprehensive panicky alarmed "
               "spooked intimidated timid fearsome unnerved scary horrific shaken rattled",
        "noun": "fear fright terror horror dread panic alarm apprehension trepidation timidity",
        "verb": "scare frighten terrify horrify petrify unnerve intimidate spook",
    },
    "contempt": {
        "adj": "contemptuous scornful disdainful derisive condescending smug haughty arrogant disrespectful "
               "sarcastic dismissive disapproving supercilious",
        "noun": "contempt scorn disdain derision condescension arrogance disrespect sarcasm disapproval",
        "verb": "deride condescend disapprove despise",
    },
    "anxiety": {
        "adj": "anxious nervous worried uneasy stressed distressed jittery jumpy edgy fretful agitated "
               "troubled concerned insecure uncomfortable self-conscious unsettled perturbed disturbed wary",
        "noun": "anxiety nervousness worry unease uneasiness stress distress agitation concern insecurity "
                "discomfort angst",
        "verb": "fret agitate",
    },
    "helplessness": {
        "adj": "helpless powerless hopeless desperate resigned defeated overwhelmed vulnerable",
        "noun": "despair desperation resignation defeat vulnerability",
        "verb": "overwhelm",
    },
    "disappointment": {
        "adj": "disappointed disheartened discouraged disillusioned dismayed dissatisfied displeased "
               "deflated regretful",
        "noun": "disappointment dismay dissatisfaction displeasure regret disillusionment letdown",
        "verb": "disappoint dishearten discourage displease",
    },
    "other": {
        "adj": "emotional embarrassed ashamed guilty jealous envious hopeful curious suspicious shy bashful "
               "sheepish affectionate moody sentimental",
        "noun": "emotion feelings mood sentiment embarrassment shame guilt jealousy envy hope curiosity "
                "suspicion shyness affection",
        "verb": "embarrass",
    },
}

#: Expressive actions: a display that implies an emotion, per part of speech ("noun or verb": the filter
#: tells which from the words around it).
EXPRESSIVE_ACTIONS = {
    "noun or verb": "smile grin smirk laugh giggle chuckle snicker chortle guffaw cackle titter sob frown scowl "
                    "sneer pout grimace gasp glare glower snarl whimper wail sniffle",
    "noun": "laughter tear teardrop",
    "verb": "cry cries cried weep wept bawl beam",
    "adj": "tearful teary weepy smiley giggly pouty",
}

#: Several words that together name a state; "down", "blue" and "low" only after a form of "feel".
EMOTION_PHRASES = {
    "adj": ("on edge", "ill at ease", "at ease", "at peace", "at a loss", "taken aback", "fed up", "let down",
            "worked up", "stressed out", "freaked out", "grossed out", "in good spirits", "in high spirits",
            "in low spirits", "out of sorts"),
    "noun": ("state of mind", "frame of mind"),
}
FEEL_FORMS = {"feel", "feels", "feeling", "felt"}
AFTER_FEEL = {"down", "blue", "low"}

#: Words a suffix rule reduces to an emotion base although they name none, found by running the
#: analyser over a 114k-word English list: "concerning" is mostly "about"; the others are a soil, a
#: coal and a beetle; "sober" (and "soberly", ...) reduces to the expressive action "sob".
NOT_EMOTION = {"concerning", "gley", "gleed", "elater", "elatery", "sober"}

#: Suffixes undone to reach a base: (suffix, what may replace it, part of speech of the derived word;
#: None keeps the base's). Doubled consonants before -ed/-ing/-er/-est/-y are undone too ("sadder").
_SUFFIXES = (
    ("ically", ("ic",), "adv"), ("ily", ("y",), "adv"), ("bly", ("ble",), "adv"), ("ly", ("",), "adv"),
    ("iness", ("y",), "noun"), ("ness", ("",), "noun"), ("ment", ("",), "noun"), ("ion", ("e", ""), "noun"),
    ("ful", ("",), "adj"), ("less", ("",), "adj"), ("ous", ("", "e"), "adj"),
    ("cked", ("c",), "adj"), ("cking", ("c",), "adj"), ("cky", ("c",), "adj"),
    ("ied", ("y",), "adj"), ("ed", ("", "e"), "adj"), ("ing", ("", "e"), "adj"),
    ("ier", ("y",), "adj"), ("iest", ("y",), "adj"), ("er", ("", "e"), "adj"), ("est", ("", "e"), "adj"),
    ("y", ("", "e"), "adj"),
    ("ies", ("y",), None), ("es", ("",), None), ("s", ("",), None),
)
_UNDOUBLE = ("ed", "ing", "er", "est", "y")
_ACTIONS_BY_POS = {"noun": f"{EXPRESSIVE_ACTIONS['noun']} {EXPRESSIVE_ACTIONS['noun or verb']}",
                   "verb": f"{EXPRESSIVE_ACTIONS['verb']} {EXPRESSIVE_ACTIONS['noun or verb']}",
                   "adj": EXPRESSIVE_ACTIONS["adj"]}
_ACTION_BASES = {pos: {w: pos for w in words.split()} for pos, words in _ACTIONS_BY_POS.items()}


def base_words(extra_words=(), keep_expressive_actions: bool = False) -> dict[str, str]:
    """Base word -> part of speech (noun before adjective before verb where a word is several), for the
    lexicon, the expressive actions unless kept, and ``extra_words`` (single words; their part of speech
    guessed from their ending)."""
    families = [*EMOTION_LEXICON.values(), *([] if keep_expressive_actions else [_ACTIONS_BY_POS])]
    bases = {}
    for pos in ("verb", "adj", "noun"):
        for family in families:
            bases.update((w, pos) for w in family[pos].split())
    for word in extra_words:
        word = word.strip().lower()
        if word and " " not in word:
            adjective = re.search(r"(y|ed|ful|ous|ive|al|less|ic|ish|ent|ant)$", word)
            bases.setdefault(word, "adj" if adjective else "noun")
    return bases


_BASES = base_words()


def _analyse(word: str, bases: dict[str, str], depth: int = 0) -> str | None:
    """Part of speech of ``word`` if it is a listed base or derived from one by suffixes, else None."""
    if word in NOT_EMOTION:
        return None
    if word in bases:
        return bases[word]
    if depth == 3:
        return None
    for suffix, replacements, pos in _SUFFIXES:
        if not word.endswith(suffix) or len(word) - len(suffix) < 3:
            continue
        stem = word[: -len(suffix)]
        stems = [stem + r for r in replacements]
        if suffix in _UNDOUBLE and len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
            stems.append(stem[:-1])
        for candidate in stems:
            if (base_pos := _analyse(candidate, bases, depth + 1)) is not None:
                return pos or base_pos
    return None


def emotion_pos(word: str, bases: dict[str, str] | None = None) -> str | None:
    """``"adj"``, ``"adv"``, ``"noun"`` or ``"verb"`` if ``word`` names an emotion (one of ``bases``, by
    default the lexicon's), else None."""
    bases = _BASES if bases is None else bases
    word = word.lower().replace("\u2019", "'")
    if word.endswith("'s"):
        return None
    for form in (word, word.replace("-", "")):
        if (pos := _analyse(form, bases)) is not None:
            return pos
        if form.startswith("un") and (pos := _analyse(form[2:], bases)) is not None:
            return pos
    if "-" in word:  # "panic-stricken", "fear-filled": an emotion in any part
        parts = [emotion_pos(part, bases) for part in word.split("-")]
        if any(parts):
            return parts[-1] or "adj"
    return None


def action_roles(word: str) -> set[str]:
    """The parts of speech ``word`` may have as an expressive action: {"noun", "verb"} for "smiles",
    {"adj"} for "smiling" or "smiled", {"noun"} for "tears"; empty if it is none."""
    return {pos for bases in _ACTION_BASES.values() if (pos := emotion_pos(word, bases)) is not None}


def is_emotion_word(word: str, extra_words=(), keep_expressive_actions: bool = False) -> bool:
    """Whether the filter removes ``word`` (out of context: "feeling" or "down" depend on their neighbours)."""
    custom = extra_words or keep_expressive_actions
    return emotion_pos(word, base_words(extra_words, keep_expressive_actions) if custom else None) is not None
