"""The one-question page a customer's phone opens from a receipt's QR code or short link (`/r/<token>`): how did it
go, 1 to 5, and a comment if she likes; in Dutch or English; no account, no cookies, no script, nothing else asked.

Plain HTML with its own small stylesheet, made for a phone's width. The language is the one asked for (`?lang=`),
else the first of Dutch and English that the browser prefers, else Dutch (the chain's). Every answer the page gives
is a page too: thanks, already answered, too late, not found (perhaps not arrived yet from the store), a mistake in
the form (with what was typed kept).
"""

from __future__ import annotations

from html import escape

LANGS = ("nl", "en")
COMMENT_MAX = 1000

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "How did it go?",
        "q_consult": "How did we help you today at {store}?",
        "q_ship_to_home": "How was ordering with us at {store}?",
        "q_return": "How was bringing your item back at {store}?",
        "q_exchange": "How was exchanging your item at {store}?",
        "q_pickup": "How was picking up your order at {store}?",
        "q_enrolment": "How was joining our loyalty programme at {store}?",
        "served_by": "You were helped by {name}.",
        "score_1": "Very poor",
        "score_2": "Poor",
        "score_3": "All right",
        "score_4": "Good",
        "score_5": "Excellent",
        "comment": "Anything you would like to tell us? (optional)",
        "send": "Send",
        "thanks": "Thank you!",
        "thanks_text": "Your answer has reached {store}. It helps us serve you better.",
        "thanks_low": "We are sorry it was not as it should be. The store will get back to you.",
        "already": "You have answered already",
        "already_text": "Thank you: we have your answer about this visit.",
        "closed": "This question has closed",
        "closed_text": "Visits can be rated for 30 days. Thank you for thinking of us.",
        "unknown": "We cannot find this visit",
        "unknown_text": "If you were in the store just now, try again in a little while: the visit may not have reached "
        "us yet. Or check the link on your receipt.",
        "pick_score": "Choose a score from 1 to 5.",
        "too_long": "Please keep your comment under {max} characters.",
        "other_lang": "Nederlands",
        "unavailable": "This page cannot be shown right now. Please try again later.",
    },
    "nl": {
        "title": "Hoe ging het?",
        "q_consult": "Hoe hebben we je vandaag geholpen bij {store}?",
        "q_ship_to_home": "Hoe ging het bestellen bij {store}?",
        "q_return": "Hoe ging het terugbrengen van je artikel bij {store}?",
        "q_exchange": "Hoe ging het ruilen van je artikel bij {store}?",
        "q_pickup": "Hoe ging het ophalen van je bestelling bij {store}?",
        "q_enrolment": "Hoe ging je aanmelding voor ons klantenprogramma bij {store}?",
        "served_by": "Je werd geholpen door {name}.",
        "score_1": "Heel slecht",
        "score_2": "Slecht",
        "score_3": "Redelijk",
        "score_4": "Goed",
        "score_5": "Uitstekend",
        "comment": "Wil je ons nog iets vertellen? (niet verplicht)",
        "send": "Versturen",
        "thanks": "Dank je wel!",
        "thanks_text": "Je antwoord is bij {store} aangekomen. Zo kunnen we je beter helpen.",
        "thanks_low": "Het spijt ons dat het niet ging zoals het hoort. De winkel neemt contact met je op.",
        "already": "Je hebt al geantwoord",
        "already_text": "Dank je wel: we hebben je antwoord over dit bezoek.",
        "closed": "Deze vraag is gesloten",
        "closed_text": "Een bezoek kun je 30 dagen lang beoordelen. Bedankt dat je aan ons denkt.",
        "unknown": "We kunnen dit bezoek niet vinden",
        "unknown_text": "Was je net in de winkel? Probeer het over een poosje nog eens: het bezoek is misschien nog "
        "niet bij ons aangekomen. Of kijk de link op je bon na.",
        "pick_score": "Kies een cijfer van 1 tot 5.",
        "too_long": "Houd je opmerking korter dan {max} tekens.",
        "other_lang": "English",
        "unavailable": "Deze pagina kan nu niet worden getoond. Probeer het later nog eens.",
    },
}

STYLE = """
* { box-sizing: border-box; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1b1b;
  background: #f4f7f6; }
main { max-width: 30rem; margin: 0 auto; padding: 1.25rem 1rem 2rem; }
header { display: flex; justify-content: space-between; align-items: center; color: #00695c; font-weight: 700; }
header a { color: #00695c; font-weight: 400; }
h1 { font-size: 1.6rem; margin: 1.2rem 0 0.4rem; }
p { font-size: 1.05rem; line-height: 1.45; }
fieldset { border: 0; padding: 0; margin: 1rem 0; display: grid; gap: 0.5rem; }
legend { font-size: 1.15rem; font-weight: 600; margin-bottom: 0.5rem; }
label.score { display: flex; align-items: center; gap: 0.75rem; min-height: 3.2rem; padding: 0 1rem;
  background: #fff; border: 2px solid #cfd8dc; border-radius: 0.75rem; font-size: 1.1rem; }
label.score input { width: 1.4rem; height: 1.4rem; accent-color: #00796b; }
label.score b { display: inline-block; width: 1.5rem; text-align: center; font-size: 1.3rem; color: #00695c; }
label.score:has(input:checked) { border-color: #00796b; background: #e0f2f1; }
textarea { width: 100%; min-height: 6rem; font: inherit; font-size: 1.05rem; padding: 0.75rem;
  border: 2px solid #cfd8dc; border-radius: 0.75rem; }
button { width: 100%; min-height: 3.4rem; margin-top: 1rem; font-size: 1.2rem; font-weight: 700; color: #fff;
  background: #00796b; border: 0; border-radius: 0.75rem; }
.error { color: #b71c1c; background: #ffebee; padding: 0.75rem 1rem; border-radius: 0.75rem; }
"""


def pick_lang(asked: str | None, accept_language: str | None) -> str:
    """The page's language: the one asked for, else the browser's first of Dutch and English, else Dutch."""
    if asked in LANGS:
        return asked
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return "nl"


def t(lang: str, key: str, **values: object) -> str:
    return WORDS[lang][key].format(**{k: escape(str(v)) for k, v in values.items()})


def page(lang: str, token: str, title: str, body: str) -> str:
    other = "en" if lang == "nl" else "nl"
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body><main>"
        f'<header><span>Clienteling</span><a href="/r/{escape(token)}?lang={other}" hreflang="{other}">'
        f"{t(lang, 'other_lang')}</a></header>{body}</main></body></html>"
    )


def question(
    lang: str,
    token: str,
    kind: str,
    store: str,
    staff: str | None,
    *,
    error: str | None = None,
    score: int | None = None,
    comment: str = "",
) -> str:
    """The form: the question about this touchpoint, five scores, a comment box, one button."""
    scores = "".join(
        f'<label class="score"><input type="radio" name="score" value="{n}"{" checked" if score == n else ""}'
        f" required><b>{n}</b> {t(lang, f'score_{n}')}</label>"
        for n in range(5, 0, -1)
    )
    served = f"<p>{t(lang, 'served_by', name=staff)}</p>" if staff else ""
    problem = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        f"<h1>{t(lang, 'title')}</h1>{served}{problem}"
        f'<form method="post" action="/r/{escape(token)}?lang={lang}">'
        f"<fieldset><legend>{t(lang, 'q_' + kind, store=store)}</legend>{scores}</fieldset>"
        f'<label for="comment">{t(lang, "comment")}</label>'
        f'<textarea id="comment" name="comment" maxlength="{COMMENT_MAX}">{escape(comment)}</textarea>'
        f'<button type="submit">{t(lang, "send")}</button></form>'
    )
    return page(lang, token, t(lang, "title"), body)


def notice(lang: str, token: str, heading: str, text: str, **values: object) -> str:
    """A page that only says something: thanks, already answered, closed, not found."""
    body = f"<h1>{t(lang, heading, **values)}</h1><p>{t(lang, text, **values)}</p>"
    return page(lang, token, t(lang, heading, **values), body)
