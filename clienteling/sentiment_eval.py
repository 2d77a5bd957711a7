"""How well sentiment scoring does on customer messages: `clienteling bench --sentiment` (or
`python -m clienteling.sentiment_eval`).

The sample is tests/data/sentiment_sample.jsonl: short messages a fashion chain gets by chat, WhatsApp, email and
social media, in Dutch and English, each labelled negative / neutral / positive by hand before any model was run
(negative = a complaint the brand should act on, also when polite, sarcastic or mixed with praise).

Every candidate gives each message a score in [-1, 1]; two thresholds turn the score into a label (negative below
the first, positive above the second). The thresholds are never chosen on the messages they are measured on: per
language, the sample is split in two halves stratified by label (alternate messages of each label), the thresholds
are tuned on one half (best accuracy, ties to the better F1 of "negative") and measured on the other, then the halves
swap roles (2-fold cross-validation). The figures are over all messages, each labelled with thresholds chosen
without it. `clienteling.sentiment` is measured the same way, and also with its own fixed thresholds.

Two more samples measure what the complaint cues of `clienteling.sentiment` do on messages they were not written
from (the cues were written from the first sample's misses): tests/data/sentiment_holdout.jsonl (held1), written
after the first cues (the second round of cues then learnt from its figures), and sentiment_holdout2.jsonl (held2),
written after the last change to the cues: held2 is the honest figure. On them, thresholds are tuned on the whole
first sample.

Candidates whose library is not installed are skipped: the comparison table in the README was made in a scratch
environment with all of them (vaderSentiment, textblob, textblob-nl, langdetect, lingua-language-detector).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "sentiment_sample.jsonl"
# written after the first complaint cues were fixed (v1), and after the generic failure signs (v2) were
HELD_OUT = {"held1": SAMPLE.with_name("sentiment_holdout.jsonl"), "held2": SAMPLE.with_name("sentiment_holdout2.jsonl")}
LABELS = ("negative", "neutral", "positive")


def load_sample(path: Path = SAMPLE) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def halves(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """Two halves stratified by label: the messages of each label go alternately to the first and the second."""
    first: list[dict] = []
    second: list[dict] = []
    for label in LABELS:
        of_label = [r for r in rows if r["label"] == label]
        first += of_label[0::2]
        second += of_label[1::2]
    return first, second


def label_of(score: float, low: float, high: float) -> str:
    if score < low:
        return "negative"
    if score > high:
        return "positive"
    return "neutral"


def figures(labels: list[str], predicted: list[str]) -> dict[str, float]:
    n = len(labels)
    right = sum(a == b for a, b in zip(labels, predicted, strict=True))
    said_neg = sum(p == "negative" for p in predicted)
    are_neg = sum(a == "negative" for a in labels)
    hit = sum(a == b == "negative" for a, b in zip(labels, predicted, strict=True))
    precision = hit / said_neg if said_neg else 0.0
    recall = hit / are_neg if are_neg else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"n": n, "accuracy": right / n, "neg_precision": precision, "neg_recall": recall, "neg_f1": f1}


def tune(scores: list[float], labels: list[str]) -> tuple[float, float]:
    """The two thresholds that label `scores` best: cuts halfway between neighbouring distinct scores."""
    values = sorted(set(scores))
    cuts = [values[0] - 1e-6] + [(a + b) / 2 for a, b in itertools.pairwise(values)] + [values[-1] + 1e-6]
    best = None
    for i, low in enumerate(cuts):
        for high in cuts[i:]:
            f = figures(labels, [label_of(s, low, high) for s in scores])
            key = (round(f["accuracy"], 9), round(f["neg_f1"], 9), -abs(low + high))
            if best is None or key > best[0]:
                best = (key, low, high)
    assert best is not None
    return best[1], best[2]


def cross_validated(rows: list[dict], scores: dict[str, float]) -> dict[str, float]:
    """Figures over all `rows`, each labelled with thresholds tuned on the other half."""
    a, b = halves(rows)
    labels: list[str] = []
    predicted: list[str] = []
    chosen = []
    for tune_on, test_on in ((a, b), (b, a)):
        low, high = tune([scores[r["text"]] for r in tune_on], [r["label"] for r in tune_on])
        chosen.append((round(low, 3), round(high, 3)))
        labels += [r["label"] for r in test_on]
        predicted += [label_of(scores[r["text"]], low, high) for r in test_on]
    return figures(labels, predicted) | {"thresholds": chosen}


@dataclass
class Candidate:
    name: str
    languages: tuple[str, ...]
    make: Callable[[], Callable[[str, str | None], float]]  # builds the scorer (imports, loads lexicons)
    given_language: bool = True  # False: the scorer is told no language (it detects it)


def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyser = SentimentIntensityAnalyzer()
    return lambda text, lang: analyser.polarity_scores(text)["compound"]


def _textblob_en():
    from textblob.en.sentiments import PatternAnalyzer

    analyser = PatternAnalyzer()
    return lambda text, lang: analyser.analyze(text)[0]


def _textblob_nl():
    from textblob_nl import PatternAnalyzer

    analyser = PatternAnalyzer()
    return lambda text, lang: analyser.analyze(text)[0]


def _textblob_by_language():
    en, nl = _textblob_en(), _textblob_nl()
    return lambda text, lang: (nl if lang == "nl" else en)(text, lang)


def _vader_and_textblob_nl():
    en, nl = _vader(), _textblob_nl()
    return lambda text, lang: (nl if lang == "nl" else en)(text, lang)


def _ours():
    from clienteling import sentiment

    return lambda text, lang: sentiment.score(text, lang).score


CANDIDATES = [
    Candidate("VADER", ("en", "nl"), _vader),
    Candidate("TextBlob (en)", ("en",), _textblob_en),
    Candidate("textblob-nl", ("nl",), _textblob_nl),
    Candidate("TextBlob en + textblob-nl", ("en", "nl"), _textblob_by_language),
    Candidate("VADER en + textblob-nl", ("en", "nl"), _vader_and_textblob_nl),
    Candidate("clienteling.sentiment", ("en", "nl"), _ours),
    Candidate("clienteling.sentiment, lang detected", ("en", "nl"), _ours, given_language=False),
]


def _detectors() -> dict[str, Callable[[], Callable[[str], str]]]:
    def langdetect():
        from langdetect import DetectorFactory, detect

        DetectorFactory.seed = 0
        return detect

    def lingua():
        from lingua import Language, LanguageDetectorBuilder

        detector = LanguageDetectorBuilder.from_languages(Language.ENGLISH, Language.DUTCH).build()
        return lambda text: "nl" if detector.detect_language_of(text) == Language.DUTCH else "en"

    def ours():
        from clienteling.sentiment import detect_language

        return detect_language

    return {"langdetect": langdetect, "lingua (en/nl only)": lingua, "clienteling.sentiment.detect_language": ours}


def run(path: Path = SAMPLE, held_out: dict[str, Path] = HELD_OUT) -> dict:
    rows = load_sample(path)
    sets = {name: load_sample(p) for name, p in held_out.items()}
    every = rows + [r for held in sets.values() for r in held]
    results: dict = {
        name: {lang: len([r for r in messages if r["lang"] == lang]) for lang in ("en", "nl")}
        for name, messages in {"sample": rows, **sets}.items()
    }
    table = []
    for candidate in CANDIDATES:
        started = time.perf_counter()
        try:
            scorer = candidate.make()
            scorer("warm up", "en")
        except ImportError as e:
            table.append({"candidate": candidate.name, "skipped": f"not installed ({e.name})"})
            continue
        load_ms = (time.perf_counter() - started) * 1000
        for lang in candidate.languages:
            of_lang = [r for r in rows if r["lang"] == lang]
            started = time.perf_counter()
            scores = {r["text"]: scorer(r["text"], lang if candidate.given_language else None) for r in of_lang}
            per_message = (time.perf_counter() - started) * 1000 / len(of_lang)
            row = {"candidate": candidate.name, "lang": lang, **cross_validated(of_lang, scores)}
            row |= {"ms_per_message": per_message, "load_ms": load_ms}
            # held out: thresholds tuned on the whole sample, measured on messages written after the cues were fixed
            low, high = tune([scores[r["text"]] for r in of_lang], [r["label"] for r in of_lang])
            given = candidate.given_language
            for name, held in sets.items():
                held_lang = [r for r in held if r["lang"] == lang]
                predicted = [label_of(scorer(r["text"], lang if given else None), low, high) for r in held_lang]
                row[name] = figures([r["label"] for r in held_lang], predicted)
            table.append(row)
    results["candidates"] = table
    try:
        from clienteling import sentiment

        fixed = []
        for which, messages in {"sample": rows, **sets}.items():
            for lang in ("en", "nl"):
                of_lang = [r for r in messages if r["lang"] == lang]
                for given in (True, False):
                    predicted = [sentiment.score(r["text"], lang if given else None).label for r in of_lang]
                    figs = figures([r["label"] for r in of_lang], predicted)
                    fixed.append({"messages": which, "lang": lang, "language_given": given, **figs})
        results["fixed_thresholds"] = fixed
    except ImportError as e:
        results["fixed_thresholds"] = f"not installed ({e.name})"
    detection = []
    for name, make in _detectors().items():
        try:
            detect = make()
        except ImportError as e:
            detection.append({"detector": name, "skipped": f"not installed ({e.name})"})
            continue
        started = time.perf_counter()
        right = sum(detect(r["text"]) == r["lang"] for r in every)
        per_message = (time.perf_counter() - started) * 1000 / len(every)
        detection.append({"detector": name, "accuracy": right / len(every), "ms_per_message": per_message})
    results["language_detection"] = detection
    return results


def describe(results: dict) -> str:
    sample, held1, held2 = results["sample"], results["held1"], results["held2"]
    lines = [
        f"Sentiment: sample {sample['en']} English + {sample['nl']} Dutch messages, thresholds 2-fold cross-validated;",
        (
            f"held1 ({held1['en']} + {held1['nl']}) written after the cues of v1, held2 ({held2['en']} + {held2['nl']}) "
            "after the failure signs of v2 (thresholds tuned on the whole sample)"
        ),
        f"{'':36} {'':4} {'---- sample ----':>17} {'---- held1 -----':>17} {'---- held2 -----':>17}",
        (
            f"{'candidate':36} {'lang':4}"
            + f" {'acc':>5} {'negP':>5} {'negR':>5}" * 3
            + f" {'ms/msg':>7} {'load ms':>8}"
        ),
    ]
    for row in results["candidates"]:
        if "skipped" in row:
            lines.append(f"{row['candidate']:36} {row['skipped']}")
            continue
        cells = "".join(
            f" {f['accuracy']:5.2f} {f['neg_precision']:5.2f} {f['neg_recall']:5.2f}"
            for f in (row, row["held1"], row["held2"])
        )
        lines.append(f"{row['candidate']:36} {row['lang']:4}{cells} {row['ms_per_message']:7.3f} {row['load_ms']:8.0f}")
    fixed = results["fixed_thresholds"]
    if isinstance(fixed, list):
        lines.append("clienteling.sentiment with its own thresholds:")
        for row in fixed:
            given = "given" if row["language_given"] else "detected"
            lines.append(
                f"  {row['messages']:8} {row['lang']} (language {given:8}) acc {row['accuracy']:.2f}  negative "
                f"precision {row['neg_precision']:.2f} recall {row['neg_recall']:.2f}"
            )
    lines.append("Language detection on all the messages:")
    for row in results["language_detection"]:
        if "skipped" in row:
            lines.append(f"  {row['detector']:42} {row['skipped']}")
        else:
            lines.append(f"  {row['detector']:42} {row['accuracy']:.3f}  {row['ms_per_message']:.3f} ms/message")
    return "\n".join(lines)


def main(as_json: bool = False) -> int:
    results = run()
    print(json.dumps(results) if as_json else describe(results))
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(main("--json" in sys.argv))
