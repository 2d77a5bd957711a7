"""How it went, asked at every store touchpoint (issue 15): touchpoints, the customers' answers, the staff pulse, and
the report of them by week.

- A touchpoint (a consult, a ship-to-home order, a return, an exchange, a pickup, an enrolment) arrives from the
  device's outbox with the token its receipt or screen carried as a QR code and short link (`/r/<token>`, served by
  `survey_page.py`). The token is made on the device, so a receipt made offline already works once the touchpoint has
  reached the centre. A token is the touchpoint's for good: the same token for another touchpoint is refused.
- One answer per touchpoint, within `rules.FEEDBACK_WINDOW`: a score 1–5 and an optional comment, in the language the
  page was read in. An answer is published as `feedback.received` in its transaction.
- The staff pulse is anonymous: the centre keeps the store, the day and the score, never who or when in the day; a
  week's average is shown only where `rules.PULSE_MIN_ANSWERS` answered.
- The report (`Experience`) counts answers by the week of the touchpoint (when the service happened), per type, store
  and staff member, with the lowest-rated answers that say why.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections import defaultdict
from datetime import date, timedelta

from clienteling import rules
from clienteling.central.base import StoreBase, iso
from clienteling.central.db import Conn
from clienteling.central.problems import ProblemError, implausible_time
from clienteling.contract import (
    TOUCHPOINT_TYPES,
    Experience,
    Feedback,
    PulseCommand,
    PulseRecorded,
    ScoreCell,
    ScoreLine,
    Touchpoint,
    TouchpointCommand,
)

LOWEST_SHOWN = 20  # the lowest-rated answers with a comment a report lists
CSV_COLUMNS = (
    "token",
    "type",
    "store",
    "staff_id",
    "staff_name",
    "score",
    "comment",
    "lang",
    "touchpoint_at",
    "answered_at",
)


class _Scores:
    """Scores gathered for one cell."""

    def __init__(self) -> None:
        self.scores: list[int] = []

    def add(self, score: int) -> None:
        self.scores.append(score)

    def cell(self, minimum: int = 1) -> ScoreCell:
        shown = len(self.scores) >= minimum
        return ScoreCell(
            answers=len(self.scores),
            average=round(sum(self.scores) / len(self.scores), 2) if self.scores and shown else None,
            low=sum(1 for s in self.scores if s <= rules.LOW_SCORE) if shown else 0,
        )


class _Line:
    def __init__(self) -> None:
        self.weeks: dict[date, _Scores] = defaultdict(_Scores)
        self.total = _Scores()

    def add(self, week: date, score: int) -> None:
        self.weeks[week].add(score)
        self.total.add(score)

    def line(self, key: str, name: str | None, mondays: list[date], minimum: int = 1) -> ScoreLine:
        return ScoreLine(
            key=key,
            name=name,
            weeks=[self.weeks[m].cell(minimum) for m in mondays],
            total=self.total.cell(minimum),
        )


class Feedbacks(StoreBase):
    # ------------------------------------------------------------------ touchpoints

    def record_touchpoint(
        self, customer_id: str, command: TouchpointCommand, key: str, device_store: str, *, restoring: str | None = None
    ):
        body = f"{customer_id}\n{command.model_dump_json()}"
        return self._idempotent(
            device_store,
            key,
            "touchpoint",
            body,
            lambda conn: self._touchpoint(conn, customer_id, command, device_store),
            customer_id,
        )

    def _touchpoint(self, conn: Conn, customer_id: str, command: TouchpointCommand, device_store: str) -> str:
        if conn.execute("SELECT 1 FROM customers WHERE id = ?", (customer_id,)).fetchone() is None:
            raise ProblemError("customer_not_found", f"there is no customer {customer_id}")
        self._staff_of_store(conn, device_store, "staff_id", command.staff_id)
        now = self.clock()
        refusal = rules.implausible_view_time(command.at, now)  # a touchpoint is sent as late as a profile view
        if problem := implausible_time(refusal, "at", command.at, "touchpoints"):
            raise problem
        if conn.execute("SELECT 1 FROM touchpoints WHERE token = ?", (command.token,)).fetchone() is not None:
            raise ProblemError("token_taken", "this token already names another touchpoint; make a new one")
        touchpoint = Touchpoint(
            token=command.token,
            type=command.type,
            customer_id=customer_id,
            store=device_store,
            staff_id=command.staff_id,
            reference=command.reference,
            at=command.at,
            recorded_at=now,
        )
        doc = touchpoint.model_dump_json()
        conn.execute(
            "INSERT INTO touchpoints (token, customer_id, store, staff_id, type, at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (command.token, customer_id, device_store, command.staff_id, command.type, iso(command.at), doc),
        )
        return doc

    def touchpoint(self, token: str) -> tuple[Touchpoint, Feedback | None, str | None] | None:
        """The touchpoint a survey link names, its answer if given, and its store's name; None if unknown."""
        row = self.query_one(
            "SELECT t.doc, f.doc, s.doc->>'name' FROM touchpoints t LEFT JOIN feedback f ON f.token = t.token"
            " LEFT JOIN stores s ON s.id = t.store WHERE t.token = ?",
            (token,),
        )
        if row is None:
            return None
        answer = Feedback.model_validate_json(row[1]) if row[1] else None
        return Touchpoint.model_validate_json(row[0]), answer, row[2]

    def answer_touchpoint(self, token: str, score: int, comment: str | None, lang: str) -> Feedback:
        """The customer's answer about the touchpoint `token`. Refused: an unknown token (`touchpoint_not_found`),
        a second answer (`already_answered`), an answer after `rules.FEEDBACK_WINDOW` (`feedback_closed`)."""
        comment = (comment or "").strip() or None
        with self.write() as conn:
            row = conn.execute("SELECT doc FROM touchpoints WHERE token = ?", (token,)).fetchone()
            if row is None:
                raise ProblemError("touchpoint_not_found", "no touchpoint has this token")
            touchpoint = Touchpoint.model_validate_json(row[0])
            now = self.clock()
            if not rules.feedback_open(touchpoint.at, now):
                raise ProblemError("feedback_closed", "this touchpoint can no longer be rated")
            self.db.lock(conn, f"feedback\n{token}")
            if conn.execute("SELECT 1 FROM feedback WHERE token = ?", (token,)).fetchone() is not None:
                raise ProblemError("already_answered", "this touchpoint has been rated already")
            name = None
            if touchpoint.staff_id:
                found = conn.execute("SELECT doc->>'name' FROM staff WHERE id = ?", (touchpoint.staff_id,)).fetchone()
                name = found[0] if found else None
            feedback = Feedback(
                token=token,
                type=touchpoint.type,
                store=touchpoint.store,
                staff_id=touchpoint.staff_id,
                staff_name=name,
                customer_id=touchpoint.customer_id,
                score=score,
                comment=comment,
                lang=lang,
                touchpoint_at=touchpoint.at,
                answered_at=now,
            )
            doc = feedback.model_dump_json()
            conn.execute(
                "INSERT INTO feedback (token, customer_id, store, staff_id, type, score, touchpoint_at, answered_at, doc)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    token,
                    touchpoint.customer_id,
                    touchpoint.store,
                    touchpoint.staff_id,
                    touchpoint.type,
                    score,
                    iso(touchpoint.at),
                    iso(now),
                    doc,
                ),
            )
            self.record_event(conn, "feedback.received", f"customer:{touchpoint.customer_id}", doc, now)
            self._after_feedback(conn, feedback)
        return feedback

    def _after_feedback(self, conn: Conn, feedback: Feedback) -> None:
        """A low rating that says why asks the store to get back to her: a follow-up on its list, in the answer's
        transaction (`rules.needs_recovery`)."""
        if rules.needs_recovery(feedback.score, feedback.comment):
            self._service_recovery(  # type: ignore[attr-defined]
                conn,
                feedback.customer_id,
                feedback.store,
                "service_recovery_feedback",
                {"touchpoint": feedback.type, "score": feedback.score, "quote": (feedback.comment or "")[:200]},
                feedback.answered_at,
            )

    # ------------------------------------------------------------------ the staff pulse

    def record_pulse(self, command: PulseCommand, key: str, device_store: str):
        """A shift's rating from a member of `device_store`'s staff: kept with the store and the day only."""
        body = command.model_dump_json()
        return self._idempotent(
            device_store, key, "pulse", body, lambda conn: self._pulse(conn, command, device_store), None
        )

    def _pulse(self, conn: Conn, command: PulseCommand, device_store: str) -> str:
        today = rules.store_day(self.clock())
        if not today - timedelta(days=14) <= command.day <= today + timedelta(days=1):
            raise ProblemError("implausible_time", f"day {command.day} is not a shift of the last two weeks")
        conn.execute(
            "INSERT INTO pulse (id, store, day, score) VALUES (?, ?, ?, ?)",
            (secrets.token_hex(16), device_store, command.day.isoformat(), command.score),
        )
        return PulseRecorded(store=device_store, day=command.day, score=command.score).model_dump_json()

    # ------------------------------------------------------------------ the report

    def experience(self, store: str | None, weeks: int = 8) -> Experience:
        """The answers of `store` (None: every store) by week, the last `weeks` weeks with this one."""
        now = self.clock()
        this_week = rules.week_of(rules.store_day(now))
        mondays = [this_week - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
        since = iso(rules.week_start(mondays[0]))
        where, params = ("AND store = ?", (since, store)) if store else ("", (since,))
        rows = self.query(f"SELECT doc FROM feedback WHERE touchpoint_at >= ? {where}", params)
        answers = [Feedback.model_validate_json(doc) for (doc,) in rows]
        overall, by_type = _Line(), defaultdict(_Line)
        by_store, by_staff = defaultdict(_Line), defaultdict(_Line)
        names: dict[str, str | None] = {}
        for answer in answers:
            week = rules.week_of(rules.store_day(answer.touchpoint_at))
            overall.add(week, answer.score)
            by_type[answer.type].add(week, answer.score)
            by_store[answer.store].add(week, answer.score)
            if answer.staff_id:
                by_staff[answer.staff_id].add(week, answer.score)
                names[answer.staff_id] = answer.staff_name
        store_names = dict(self.query("SELECT id, doc->>'name' FROM stores"))
        pulse = _Line()
        first_day = mondays[0].isoformat()
        pulse_where, pulse_params = ("AND store = ?", (first_day, store)) if store else ("", (first_day,))
        for day, score in self.query(f"SELECT day, score FROM pulse WHERE day >= ? {pulse_where}", pulse_params):
            pulse.add(rules.week_of(date.fromisoformat(day)), score)
        lowest = sorted(
            (a for a in answers if a.comment and a.score <= rules.LOW_SCORE),
            key=lambda a: (a.score, -a.answered_at.timestamp()),
        )[:LOWEST_SHOWN]
        return Experience(
            store=store,
            made_at=now,
            weeks=mondays,
            overall=overall.line("all", None, mondays),
            by_type=[by_type[t].line(t, None, mondays) for t in TOUCHPOINT_TYPES if t in by_type],
            by_store=[by_store[s].line(s, store_names.get(s), mondays) for s in sorted(by_store)],
            by_staff=[
                by_staff[s].line(s, names.get(s), mondays)
                for s in sorted(by_staff, key=lambda s: (names.get(s) or "", s))
            ],
            pulse=pulse.line("pulse", None, mondays, rules.PULSE_MIN_ANSWERS),
            lowest=lowest,
        )

    def feedback_csv(self, store: str | None, since: date | None = None) -> str:
        """Every answer (of `store`, since `since`) as CSV, oldest first: for the customer-experience team's own
        tools. No customer ids: the scores and what was said, where, by whose service and when."""
        clauses, params = [], []
        if store:
            clauses.append("store = ?")
            params.append(store)
        if since:
            clauses.append("touchpoint_at >= ?")
            params.append(iso(rules.week_start(since)))  # from the first moment of that day in the store
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for (doc,) in self.query(f"SELECT doc FROM feedback {where} ORDER BY touchpoint_at, token", params):
            answer = Feedback.model_validate_json(doc)
            row = answer.model_dump(mode="json")
            writer.writerow([_cell(row.get(column)) for column in CSV_COLUMNS])
        return out.getvalue()


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet never runs as a formula (a comment may begin with `=`, `+`, `-` or `@`)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
