"""The word classes the leakage filter's rules read: verbs that take an emotion as complement or object,
determiners, pronouns, body nouns, degree adverbs, prepositions, clause openers (each set says what it is for)."""

from __future__ import annotations

import re


def verb_forms(verbs: str, irregular: str = "") -> set[str]:
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
LINKING = verb_forms("look seem appear feel become grow turn remain stay get sound begin start continue tend",
                       "is are am was were be being been 's felt became grew grown got gotten began begun")
#: Verbs whose object may be the emotion: "shows [anger]", "suggesting [anxiety]".
CONVEYING = verb_forms(
    "show express display convey suggest indicate reveal betray radiate exude register signal reflect project "
    "evoke imply denote mirror communicate portray depict exhibit demonstrate emanate carry wear mask hide "
    "conceal experience suppress hint give flash shoot maintain keep hold adopt assume cause trigger spark "
    "capture emphasize emphasise underscore highlight replace follow overtake overcome seize grip crack force "
    "manage muster offer fake break burst let form make wipe brush stifle",
    "shown wore worn hid hidden gave given kept held shot broke broken letting made")
#: Verbs with a particle whose object may be an expressive action: "lets out [a laugh]", "blinks back [tears]".
PHRASAL_VERBS = verb_forms("let blink hold fight choke wipe brush", "letting held fought")
PARTICLES = {"out", "back", "away"}
AUXILIARIES = {"is", "are", "am", "was", "were", "'s", "has", "have", "had", "does", "do", "did", "may", "might",
                "can", "could", "will", "would", "shall", "should", "must"}
DETERMINERS = {"a", "an", "the", "his", "her", "their", "its", "my", "your", "our", "this", "that", "these",
                "those", "some", "any", "no", "such", "one's"}
PRONOUNS = {"he", "she", "they", "it", "i", "we", "you", "who", "there"}
#: Body nouns that open a clause after "and" ("looks sad and tears stream down").
BODY_NOUNS = set("eyes lips brows eyebrows cheeks tears hands shoulders nostrils teeth fists arms lids eyelids "
                  "corners muscles wrinkles lines features mouth jaw brow chin nose lip head face gaze forehead "
                  "breathing".split())
CLAUSE_STARTERS = PRONOUNS | BODY_NOUNS | DETERMINERS - {"some", "any", "no", "such"} | {"one", "both"}
#: Adverbs that only grade or hedge the emotion word after them ("visibly angry", "perhaps sad").
DEGREE = set(
    "very so too quite rather fairly pretty somewhat slightly mildly moderately extremely deeply highly truly "
    "genuinely really visibly clearly obviously evidently apparently seemingly noticeably increasingly utterly "
    "completely totally thoroughly overtly openly unmistakably palpably intensely profoundly incredibly "
    "particularly especially suddenly almost nearly more most less least subtly faintly momentarily briefly "
    "even outwardly immensely hugely terribly awfully distinctly decidedly markedly plainly largely mostly "
    "generally relatively mainly predominantly entirely not probably possibly perhaps maybe likely "
    "presumably".split())
#: Adjectives that only qualify the emotion noun after them ("in apparent disgust", "barely contained rage").
NOUN_MODIFIERS = DEGREE | set(
    "deep sheer pure obvious apparent evident visible clear slight mild growing mounting rising increasing "
    "sudden intense genuine subtle faint palpable great extreme utter total complete quiet underlying hidden "
    "barely thinly poorly contained concealed suppressed restrained controlled masked veiled repressed mock "
    "feigned real true much unmistakable distinct strong overwhelming overall general lingering momentary "
    "brief fleeting certain definite noticeable slightest raw outright open".split())
#: Adjectives by their ending, taken with the emotion noun after them when an article or preposition
#: comes before ("with undisguised hatred").
ADJECTIVE_SHAPE = re.compile(r"..(ed|ful|ous|ive|al|ic|able|ible|ent|ant|less)$")
#: Nouns that carry only the emotion named after "of": "a sense of dread", "an expression of contempt".
OF_NOUNS = set(
    "sense hint hints look looks expression expressions sign signs feeling feelings air trace traces touch mix "
    "mixture combination blend display show state mask glimmer flicker flash wave surge note tinge aura "
    "picture one bit kind sort moment moments shadow spark glint element degree level undercurrent overtone "
    "overtones suggestion indication indications impression semblance portrait image depiction sensation".split())
#: Nouns that an emotion adjective before them empties: "a fearful expression", "his emotional state".
EMOTION_HEADS = set(
    "expression expressions look looks demeanor demeanour air mood disposition state countenance manner "
    "attitude vibe reaction response energy aura".split())
PREPOSITIONS = sorted({
    ("in",), ("with",), ("without",), ("of",), ("from",), ("into",), ("to",), ("toward",), ("towards",),
    ("at",), ("by",), ("for",), ("amid",), ("through",), ("like",), ("as",), ("despite",), ("behind",),
    ("out", "of"), ("rather", "than"), ("instead", "of"), ("full", "of"), ("filled", "with"),
    ("tinged", "with"), ("laced", "with"), ("mixed", "with"), ("etched", "with"),
    ("marked", "by"), ("consistent", "with"), ("typical", "of"), ("characteristic", "of"),
    ("indicative", "of"), ("suggestive", "of"), ("reminiscent", "of"), ("associated", "with"),
    ("born", "of"), ("because", "of"), ("due", "to"), ("on", "the", "verge", "of"), ("on", "the", "brink", "of"),
    ("close", "to")}, key=len, reverse=True)  # longest first
COORDINATORS = {"and", "or"}
#: Words that open a clause whatever follows them.
OPENERS = {"but", "yet", "so", "nor", "then", "while", "whereas", "although", "though", "because", "since",
            "as", "when", "whenever", "until", "unless", "once", "if", "which", "who", "whose", "whom", "that"}
SUBORDINATORS = {"while", "whereas", "although", "though", "because", "since", "as", "when", "whenever",
                  "until", "unless", "once", "if"}
#: What joins a clause to the one before it, dropped with a dropped first clause.
CONNECTORS = COORDINATORS | SUBORDINATORS | {"but", "yet", "so", "nor"}
#: Words that end the look-back for an article before "a telltale sign of".
NOT_ADJECTIVES = LINKING | CONVEYING | PRONOUNS | BODY_NOUNS | COORDINATORS | OPENERS
#: Directions after which "looks" is a movement, not a linking verb ("looks angrily at the camera").
LOOK_DIRECTIONS = {"at", "toward", "towards", "away", "around", "down", "up", "into", "over", "off", "to",
                    "back", "straight", "directly", "ahead", "sideways"}
#: Subjects that say nothing once what they conveyed is gone ("his face shows fear").
BARE_SUBJECTS = DETERMINERS | PRONOUNS | set(
    "face faces expression expressions features countenance demeanor demeanour look appearance eyes eye gaze "
    "body language posture whole entire person man woman boy girl child subject speaker individual actor "
    "actress everything all facial movement movements overall".split())
#: Words that open a phrase put before its clause ("Throughout the clip, ..."), besides prepositions.
FRONTED = set("throughout overall initially finally later meanwhile now here during after before early late "
               "midway eventually gradually soon first then".split())
#: What introduces the signs of an emotion after it: "shows [joy], characterized by raised cheeks".
INTRODUCERS = sorted({("with",), ("including",), ("like",), ("featuring",), ("such", "as"), ("characterized", "by"),
                       ("characterised", "by"), ("marked", "by"), ("evidenced", "by"), ("as", "evidenced", "by"),
                       ("as", "shown", "by"), ("shown", "by"), ("as", "seen", "in"), ("seen", "in")},
                      key=len, reverse=True)
#: "[Fear] is evident in ...": adjectives that point at where an emotion shows.
EVIDENT = set("evident visible apparent clear noticeable obvious reflected expressed shown written etched "
               "palpable present discernible detectable readable".split())
#: Prepositions that take the rest of the clause with an emotion adjective: "scared of the dark".
COMPLEMENT_PREPOSITIONS = {"by", "of", "about", "at", "over", "toward", "towards"}
#: Words in -ing that are no participle.
NOT_PARTICIPLES = {"nothing", "something", "anything", "everything", "king", "ring", "thing", "string"}
CLAUSE_PUNCT = {",", ";", ":", "\u2014", "\u2013"}
#: Words that cannot end a sentence once what followed them was removed.
DANGLING_TAIL = {"and", "or", "but", "with", "of", "in", "into", "to", "from", "at", "by", "for", "a", "an",
                  "the", "very", "quite", "so", "too", "rather"}
#: Past forms not in -ed, which take "had" where a verb is rewritten.
IRREGULAR_PAST = {"was", "were", "had", "did", "felt", "became", "grew", "got", "began", "wore", "hid", "gave",
                   "kept", "held", "shot"}
