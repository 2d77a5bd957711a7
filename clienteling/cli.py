"""The `clienteling` command: each subcommand is a thin shell over a function a test can call."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from clienteling import __version__


def data_dir() -> Path:
    """Where this machine keeps its data: `CLIENTELING_DATA_DIR`, else `~/.clienteling` (see clienteling.config)."""
    from clienteling.config import default_data_dir

    return default_data_dir()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clienteling",
        description="Clienteling: the customer's whole picture, in store.",
        epilog=(
            "A store device finds its centre in CLIENTELING_CENTRAL_URL, CLIENTELING_DEVICE_TOKEN and "
            "CLIENTELING_STORE, or the same keys in lower case in settings.toml (in the data folder "
            "CLIENTELING_DATA_DIR, or the managed file CLIENTELING_MANAGED_SETTINGS). With none of them the app "
            "starts the embedded demo centre, unless CLIENTELING_REQUIRE_SETUP=1 asks for its set-up screen."
        ),
    )
    parser.add_argument("--version", action="version", version=f"clienteling {__version__}")
    _app_arguments(parser, argparse.SUPPRESS)  # `clienteling --web` is `clienteling app --web`
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    central = commands.add_parser("central", help="serve the central API (and manage its database)")
    central.add_argument("--demo", action="store_true", help="serve the demo chain (made on first start)")
    central.add_argument(
        "--customers", type=int, help="customers in a new demo chain (default 5000; an existing one is kept as it is)"
    )
    central.add_argument("--fresh", action="store_true", help="with --demo: make the demo chain anew")
    central.add_argument(
        "--db",
        type=_database,
        help="the database: a SQLite file (default: in the data folder) or a PostgreSQL URL (postgresql://…)",
    )
    central.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    central.add_argument("--port", type=int, default=8700, help="port to listen on (default 8700)")
    central.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes serving the same database (default 1); each takes requests of its own",
    )
    central.add_argument(
        "--profile-reads",
        metavar="BURST,PER_SECOND",
        help="customer profile reads a device token may make at once and per second after that (default 60,10); "
        "faster readers get 429 and a warning in the log",
    )
    admin = central.add_subparsers(dest="admin", metavar="ADMIN")

    add_device = admin.add_parser("add-device", help="register a device of a store and print its new token")
    add_device.add_argument("--store", required=True, help="store code, for example AMS01")
    add_device.add_argument("--label", help="a name to recognise the device by")
    _with_db(add_device)

    add_admin = admin.add_parser(
        "add-admin", help="register an administrator (reads the profile access log) and print the new token"
    )
    add_admin.add_argument("--label", help="who holds it, for example 'privacy officer'")
    _with_db(add_admin)

    make_demo = admin.add_parser("make-demo", help="make the demo chain into a database file and say how long it took")
    make_demo.add_argument("--customers", type=int, dest="demo_customers", default=5000)
    make_demo.add_argument("--today", type=date.fromisoformat, help="anchor day of the chain's dates (default today)")
    _with_db(make_demo)

    prune = admin.add_parser("prune-tombstones", help="drop old tombstones; devices behind them will fetch afresh")
    prune.add_argument("--days", type=int, required=True, help="keep the tombstones of the last DAYS days")
    _with_db(prune)

    prune_expired = admin.add_parser(
        "prune",
        help="drop profile views older than a year, stored idempotency answers and delivered events older than 30 days,"
        " what customers did online older than 90 days",
    )
    prune_expired.add_argument(
        "--now", type=_utc_moment, help="the moment to count ages from, ISO 8601 with an offset (default: now)"
    )
    _with_db(prune_expired)

    migrate = admin.add_parser(
        "migrate", help="bring the database's schema up to this version (also done at every start) and say what changed"
    )
    _with_db(migrate)

    backup = admin.add_parser(
        "backup", help="take a consistent copy of the centre's database, also while it runs (restore: see the README)"
    )
    backup.add_argument("target", type=Path, help="the file to write the copy to")
    _with_db(backup)

    forget = admin.add_parser("forget-customer", help="erase a customer and their history (GDPR erasure)")
    forget.add_argument("customer_id")
    _with_db(forget)

    add_integration = admin.add_parser(
        "add-integration", help="register one of the retailer's systems for the ingest API and print its new token"
    )
    add_integration.add_argument("--name", required=True, help="the system's name, its records' source: webshop")
    add_integration.add_argument(
        "--may", required=True, help="the collections it may write, comma-separated: customers,orders,stock"
    )
    _with_db(add_integration)

    owners = admin.add_parser(
        "field-owners", help="say which system owns which field (collection.field=system), and print the table"
    )
    owners.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="COLLECTION.FIELD=SYSTEM",
        dest="owner_set",
        help="for example customers.tier=loyalty; customers.*=crm: only crm creates and deletes customers",
    )
    owners.add_argument("--unset", action="append", default=[], metavar="COLLECTION.FIELD", dest="owner_unset")
    _with_db(owners)

    add_webhook = admin.add_parser(
        "add-webhook",
        help="subscribe an endpoint of the retailer's systems to the centre's events; prints its id and secret",
    )
    add_webhook.add_argument("--url", required=True, help="where to POST the events (http:// or https://)")
    add_webhook.add_argument(
        "--types",
        help="comma-separated event types (default all): order.created, return.registered, note.added, consent.changed",
    )
    add_webhook.add_argument("--secret", help="the signing secret (default: a new random one, printed)")
    _with_db(add_webhook)

    remove_webhook = admin.add_parser(
        "remove-webhook", help="stop sending events to a webhook (its deliveries not yet made are dropped)"
    )
    remove_webhook.add_argument("webhook_id", metavar="ID")
    _with_db(remove_webhook)

    webhooks = admin.add_parser("webhooks", help="list the subscribed endpoints")
    _with_db(webhooks)

    events = admin.add_parser(
        "events", help="list the events sent to the webhooks and how their deliveries stand; replay a failed one"
    )
    events.add_argument(
        "--failed", action="store_true", help="only deliveries that ran out of attempts, and those waiting behind them"
    )
    events.add_argument(
        "--replay", metavar="ID", help="send event ID's failed deliveries again (and what waits behind)"
    )
    events.add_argument("--webhook", help="with --replay: only the delivery to this webhook")
    events.add_argument("--limit", type=int, default=50, help="how many to list (default 50)")
    _with_db(events)

    messages = admin.add_parser(
        "outreach-messages",
        help="list the messages stores sent to customers and how their delivery stands; what the local sink received",
    )
    messages.add_argument("--sink", action="store_true", help="what the local sink provider received instead")
    messages.add_argument("--retry", metavar="ID", help="hand the failed message ID to the provider again")
    messages.add_argument("--limit", type=int, default=50, help="how many to list (default 50)")
    _with_db(messages)

    reply = admin.add_parser(
        "outreach-reply", help="the local sink: make up the customer's reply to a message (added to her chat)"
    )
    reply.add_argument("message_id", metavar="MESSAGE_ID", help="the message answered (M-…)")
    reply.add_argument("text", help="what she replies")
    _with_db(reply)

    card = commands.add_parser("card", help="draw a loyalty card's QR code, with its number under it")
    card.add_argument("number", help="the 13-digit card number")
    card.add_argument("-o", "--output", type=Path, required=True, help="the file to write: .png or .svg")
    card.add_argument("--name", help="the card holder's name, printed above the code")

    sync = commands.add_parser("sync", help="sync this device's cache with the centre, headless")
    sync.add_argument("--once", action="store_true", help="one round (push, pull, push), then exit")
    sync.add_argument("--data-dir", type=Path, help="the device's data folder (default CLIENTELING_DATA_DIR)")
    sync.add_argument("--interval", type=float, default=15.0, help="seconds between rounds (default 15)")
    sync.add_argument("--max-backoff", type=float, default=60.0, help="longest wait while the centre is unreachable")

    bench = commands.add_parser("bench", help="measure the performance targets (lookups, sync, outbox)")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument(
        "--customers", type=int, default=1_000_000, help="customers in the lookup cache (default 1,000,000)"
    )
    bench.add_argument("--sync-customers", type=int, default=50_000, help="customers in the synced demo chain")
    bench.add_argument(
        "--commands",
        type=int,
        help="commands drained from the outbox (default 500; with --drain, each of 40 batches per loss: 20)",
    )
    bench.add_argument(
        "--drain",
        action="store_true",
        help="measure only the outbox drained through a lossy link (0, 5 and 30 %% of connections reset)",
    )
    bench.add_argument(
        "--ui",
        action="store_true",
        help="measure only Enter in the scan field to the customer screen, in Chromium (needs playwright)",
    )
    bench.add_argument("--rounds", type=int, default=30, help="with --ui: scans timed")
    bench.add_argument(
        "--pins",
        action="store_true",
        help="measure only what one PIN guess costs on a device's stored staff row, and the 6-digit space",
    )

    bench.add_argument(
        "--centre",
        action="store_true",
        help="measure only the centre under load: simulated devices and order writers against SQLite with one "
        "process and with 2 workers (and PostgreSQL with --pg)",
    )
    bench.add_argument(
        "--devices", type=int, help="with --centre: simulated devices (default 200); with --watch: long polls (1000)"
    )
    bench.add_argument("--writers", type=int, default=10, help="with --centre: order writers (default 10)")
    bench.add_argument("--seconds", type=float, default=20.0, help="with --centre: seconds measured a target")
    bench.add_argument("--pg", metavar="URL", help="with --centre: also measure PostgreSQL at URL, with 2 workers")
    bench.add_argument(
        "--httpx", action="store_true", help="with --centre: simulate the devices with httpx (costs more CPU)"
    )
    bench.add_argument(
        "--watch",
        action="store_true",
        help="measure only how fast a change reaches devices that long-poll the centre (--devices of them)",
    )
    bench.add_argument("--changes", type=int, default=20, help="with --watch: changes made, 1 s apart (default 20)")
    bench.add_argument(
        "--ingest",
        action="store_true",
        help="measure only how fast the retailer's systems load customers as NDJSON (and PostgreSQL with --pg)",
    )
    bench.add_argument("--records", type=int, default=20_000, help="with --ingest: customers loaded (default 20,000)")
    bench.add_argument(
        "--suggest",
        action="store_true",
        help="measure only the suggestions for a customer with 200 orders, on a device (and the whole customer picture)",
    )

    bench.add_argument(
        "--sentiment",
        action="store_true",
        help="measure only sentiment scoring on the labelled Dutch and English sample (needs the sentiment extra)",
    )

    connect = commands.add_parser("connect", help="connect the centre to one of the retailer's platforms")
    platforms = connect.add_subparsers(dest="platform", metavar="PLATFORM", required=True)
    ct = platforms.add_parser(
        "commercetools",
        help="customers, wishlists, stores, stock and online orders from commercetools; store orders and returns back",
    )
    ct.add_argument("--config", type=Path, required=True, help="the connector's TOML file (see the README)")
    ct.add_argument(
        "--once", action="store_true", help="one run (events to commercetools, then its changes), then exit"
    )
    ct.add_argument("--interval", type=float, default=30.0, help="seconds between runs when following (default 30)")

    app = commands.add_parser("app", help="the store app (the default: same as no command)")
    _app_arguments(app, argparse.SUPPRESS)
    parser.set_defaults(web=False, host=APP_HOST, port=APP_PORT)
    return parser


APP_HOST = "127.0.0.1"  # the app is served to this machine only, unless --host says otherwise
APP_PORT = 8550


def _with_db(parser: argparse.ArgumentParser) -> None:
    """The `--db` every `clienteling central` administration command takes."""
    parser.add_argument("--db", type=_database, dest="admin_db", help="the database file or PostgreSQL URL")


def _utc_moment(text: str) -> datetime:
    """A moment given on the command line: ISO 8601 with its offset, as UTC."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} has no offset: give one, for example {text}+00:00")
    return moment.astimezone(UTC)


def _app_arguments(parser: argparse.ArgumentParser, default: object) -> None:
    """The app's options, on the main parser and on `app` alike. Their defaults are SUPPRESS on both (and set once
    on the main parser), so that neither parser's default overwrites what was given to the other."""
    parser.add_argument(
        "--web", action="store_true", default=default, help="serve the app to browsers instead of opening a window"
    )
    parser.add_argument(
        "--host",
        default=default,
        help=f"address to serve the app on (default {APP_HOST}: this machine only; 0.0.0.0 serves the network)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=default,
        help=f"port to serve the app on, with --web or on a machine without a display (default {APP_PORT})",
    )


def _fail(message: str) -> int:
    print(f"clienteling: {message}", file=sys.stderr)
    return 2


def _database(text: str) -> str | Path:
    """A PostgreSQL URL as it is, anything else as a file path."""
    from clienteling.central.db import is_postgres

    return text if is_postgres(text) else Path(text)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "central":
        from clienteling.central.db import Unreachable

        try:
            return central(args)
        except Unreachable as refusal:  # a PostgreSQL URL that leads nowhere: said, never a stack trace
            return _fail(str(refusal))
    if args.command == "connect":
        return connect(args)
    if args.command == "card":
        return card(args)
    if args.command == "sync":
        return sync(args)
    if args.command == "bench":
        if args.centre:
            from clienteling.bench_centre import main as centre_bench_main

            return centre_bench_main(
                args.json, args.devices or 200, args.seconds, args.writers, 5000, args.pg, use_httpx=args.httpx
            )
        if args.ui:
            from clienteling.bench_ui import main as ui_bench_main

            return ui_bench_main(args.json, args.rounds)
        if args.suggest:
            from clienteling.bench_suggest import main as suggest_bench_main

            return suggest_bench_main(args.json)
        if args.ingest:
            from clienteling.bench_ingest import main as ingest_bench_main

            return ingest_bench_main(args.json, args.records, args.pg)
        if args.sentiment:
            from clienteling.sentiment_eval import main as sentiment_bench_main

            return sentiment_bench_main(args.json)
        if args.watch:
            from clienteling.bench_watch import main as watch_bench_main

            return watch_bench_main(args.json, args.devices or 1000, args.changes)
        from clienteling.bench import main as bench_main

        commands = args.commands or (20 if args.drain else 500)
        return bench_main(
            args.json, args.customers, args.sync_customers, commands, drain_only=args.drain, pins_only=args.pins
        )
    from clienteling.ui.app import run

    return run(web=args.web, host=args.host, port=args.port)


def connect(args: argparse.Namespace) -> int:
    """`connect commercetools`: one run (`--once`, exit 1 if it could not finish) or runs every `--interval` seconds
    until interrupted. A configuration that cannot be used exits 2 with what to change, never a stack trace."""
    import logging

    try:
        from clienteling.connectors.commercetools import (
            CentreError,
            ConfigError,
            Connector,
            load_config,
        )
    except ImportError as missing:
        return _fail(f"the commercetools connector needs its SDK: pip install 'clienteling[commercetools]' ({missing})")
    if args.interval <= 0:
        return _fail("--interval must be more than 0 seconds")
    try:
        config = load_config(args.config)
        connector = Connector(config)
    except ConfigError as error:
        return _fail(str(error))

    def said(report) -> None:
        for line in report.lines():
            print(line, flush=True)

    if not args.once:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        try:
            connector.follow(args.interval, on_report=said)
        except KeyboardInterrupt:
            return 0
        return 0
    try:
        report = connector.run_once()
    except CentreError as error:
        print(f"clienteling: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - commercetools away, or refusing our credentials: said, exit 1
        print(f"clienteling: commercetools: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        connector.centre.close()
    said(report)
    return 0


def sync(args: argparse.Namespace) -> int:
    """Sync headless; prints what each round did. `--once` exits 1 if the round did not complete."""
    import time

    from clienteling.device import Device, DeviceError

    try:
        device = Device.open(args.data_dir)
    except DeviceError as error:
        return _fail(str(error))
    if device.syncer is None:
        device.close()
        return _fail("no centre configured: set CLIENTELING_CENTRAL_URL and CLIENTELING_DEVICE_TOKEN")
    device.syncer.backoff.cap = args.max_backoff
    try:
        while True:
            report = device.sync_now()
            print(describe_round(report), flush=True)
            if args.once:
                return 0 if report.ok else 1
            time.sleep(device.syncer.pause_after(report, args.interval))
    except KeyboardInterrupt:
        return 0
    finally:
        device.close()


def describe_round(report) -> str:
    pulled = ", ".join(f"{c} {n}" for c, n in report.pulled.items() if n) or "nothing new"
    deleted = sum(report.deleted.values())
    parts = [f"pulled: {pulled}"]
    if deleted:
        parts.append(f"deleted {deleted}")
    parts.append(f"commands sent {report.sent}, refused {report.refused}, waiting {report.waiting}")
    if report.attention:
        parts.append(f"needing attention {report.attention}")
    if report.error:
        parts.append(f"stopped: {report.error}")
    return "; ".join(parts)


def card(args: argparse.Namespace) -> int:
    from clienteling.codes import CodeError, parse_card, write_card

    try:
        number = parse_card(args.number)
        path = write_card(number, args.output, name=args.name)
    except CodeError as error:
        return _fail(f"no card drawn: {error}")
    except OSError as error:
        return _fail(f"no card drawn: cannot write {args.output}: {error.strerror}")
    print(f"card {number} drawn in {path}")
    return 0


def _field_owners(store, sets: list[str], unsets: list[str]) -> int:
    for text in [*sets, *(f"{u}=" for u in unsets)]:
        target, _, system = text.partition("=")
        collection, dot, field = target.strip().partition(".")
        if not dot or not field or ("=" not in text):
            return _fail(f"{text!r}: write COLLECTION.FIELD=SYSTEM, for example customers.tier=loyalty")
        store.set_field_owner(collection, field, system.strip() or None)
    owners = store.field_owners()
    for owner in owners:
        print(f"{owner.collection}.{owner.field}\t{owner.source}")
    if not owners:
        print("no field has an owner: every system may write every field of the collections it was given")
    return 0


def central(args: argparse.Namespace) -> int:
    from clienteling.central.db import Unreachable, is_postgres
    from clienteling.central.demo import MAX_CUSTOMERS, NotADemo, build_demo, ensure_demo, existing_demo
    from clienteling.central.problems import ProblemError
    from clienteling.central.store import CentralStore

    db = getattr(args, "admin_db", None) or args.db or data_dir() / ("central-demo.db" if args.demo else "central.db")
    if args.admin == "make-demo":
        if not 3 <= args.demo_customers <= MAX_CUSTOMERS:
            return _fail(f"--customers must be from 3 to {MAX_CUSTOMERS:,}")
        summary = build_demo(db, args.demo_customers, today=args.today)
        rows = ", ".join(f"{table} {count:,}" for table, count in summary.rows.items())
        print(f"made the demo chain in {db} in {summary.seconds:.1f} s: {rows}")
        return 0
    if args.admin is None and args.demo:
        asked, args.customers = args.customers, args.customers or 5000
        if not 3 <= args.customers <= MAX_CUSTOMERS:
            return _fail(f"--customers must be from 3 to {MAX_CUSTOMERS:,}")
        found = existing_demo(db)
        if found is not None and args.fresh:
            print(f"--fresh: making the demo chain in {db} anew; dropping {found.made_since()}", flush=True)
        elif found is not None:
            print(f"using the demo chain in {db}: {found.customers:,} customers, {found.made_since()}", flush=True)
            if asked is not None and found.customers != asked:
                print(
                    f"--customers {args.customers:,} is ignored: an existing demo chain is kept; "
                    "--fresh makes it anew (and drops what was made in it)",
                    flush=True,
                )
        try:
            made = ensure_demo(db, args.customers, fresh=args.fresh)
        except Unreachable as refusal:
            return _fail(str(refusal))
        except NotADemo as refusal:
            return _fail(f"{refusal}; --fresh with --demo replaces it with the demo chain")
        if made:
            print(f"made the demo chain ({args.customers:,} customers) in {made.seconds:.1f} s: {db}", flush=True)
    if args.admin == "migrate":
        from clienteling.central.db import Unreachable, open_database
        from clienteling.central.migrations import NewerSchema, migrate

        try:
            database = open_database(db)
        except Unreachable as refusal:
            return _fail(str(refusal))
        try:
            done = migrate(database)
        except NewerSchema as refusal:
            return _fail(str(refusal))
        finally:
            database.close()
        if done.before == done.after and not done.steps:
            print(f"{done.where}: schema version {done.after}, up to date")
        else:
            print(f"{done.where}: schema version {done.before} → {done.after}: {'; '.join(done.steps) or 'recorded'}")
        return 0
    if not is_postgres(db) and not db.exists():
        return _fail(f"there is no central database at {db}; start with --demo to make the demo chain there")
    if args.admin == "backup":
        if is_postgres(db):
            return _fail("a PostgreSQL centre is backed up with PostgreSQL's own tools (see build/chain)")
        from clienteling.central.store import backup as take_backup

        try:
            made = take_backup(db, args.target)
        except (OSError, sqlite3.Error) as error:
            return _fail(f"could not back up {db} to {args.target}: {error}")
        print(
            f"backed up {db} to {made.path} ({made.bytes:,} bytes, up to position {made.seq:,}) in {made.seconds:.1f} s"
        )
        return 0
    now = getattr(args, "now", None)
    from clienteling.central.db import Unreachable
    from clienteling.central.migrations import NewerSchema

    try:
        store = CentralStore(db) if now is None else CentralStore(db, clock=lambda: now)
    except (NewerSchema, Unreachable) as refusal:
        return _fail(str(refusal))
    try:
        if args.admin == "add-device":
            print(store.add_device(args.store, args.label))
            return 0
        if args.admin == "add-admin":
            print(store.add_admin(args.label))
            return 0
        if args.admin == "prune-tombstones":
            count = store.prune_tombstones(timedelta(days=args.days))
            print(f"dropped {count} tombstone(s) older than {args.days} day(s)")
            return 0
        if args.admin == "prune":
            views, answers = store.prune_expired()
            print(f"dropped {views} profile view(s) and {answers} stored idempotency answer(s) past their retention")
            print(f"dropped {store.prune_events()} delivered event(s) older than 30 days")
            return 0
        if args.admin == "add-integration":
            print(store.add_integration(args.name, args.may.split(",")))
            return 0
        if args.admin == "field-owners":
            return _field_owners(store, args.owner_set, args.owner_unset)
        if args.admin in ("add-webhook", "remove-webhook", "webhooks", "events"):
            return webhook_command(store, args)
        if args.admin in ("outreach-messages", "outreach-reply"):
            return outreach_command(store, args)
        if args.admin == "forget-customer":
            if not store.forget_customer(args.customer_id):
                return _fail(f"there is no customer {args.customer_id}")
            print(f"erased customer {args.customer_id} and their history")
            return 0
    except ProblemError as problem:
        return _fail(problem.detail)
    limit = _profile_read_limit(args.profile_reads)
    if isinstance(limit, str):
        return _fail(limit)
    if args.workers < 1:
        return _fail("--workers must be 1 or more")
    from clienteling.central.events import delivery_settings
    from clienteling.central.outreach import outreach_settings, provider_from_environment

    try:
        delivery_settings()
        outreach_settings()
        provider_from_environment(store)  # the retailer's provider (CLIENTELING_OUTREACH_PROVIDER) can be made
    except ValueError as wrong:
        return _fail(str(wrong))
    views, answers = store.prune_expired()  # at every start, so that a centre restarted now and then needs no cron
    if views or answers:
        print(f"dropped {views} profile view(s) and {answers} stored idempotency answer(s) past their retention")
    events = store.prune_events()
    if events:
        print(f"dropped {events} delivered event(s) older than 30 days")
    if args.workers > 1:
        store.close()  # each worker opens the database itself
        return serve_workers(
            db, args.workers, host=args.host, port=args.port, demo=args.demo, profile_reads=args.profile_reads
        )
    return serve_central(store, host=args.host, port=args.port, demo=args.demo, profile_reads=limit)


def webhook_command(store, args: argparse.Namespace) -> int:
    """`central add-webhook`, `remove-webhook`, `webhooks` and `events`."""
    from clienteling.central.events import WebhookError

    try:
        if args.admin == "add-webhook":
            types = args.types.split(",") if args.types else None
            webhook_id, secret = store.add_webhook(args.url, types, args.secret)
            print(f"webhook {webhook_id}\nsecret {secret}")
            return 0
        if args.admin == "remove-webhook":
            dropped = store.remove_webhook(args.webhook_id)
            print(f"webhook {args.webhook_id} removed; {dropped} delivery(ies) not yet made dropped")
            return 0
        if args.admin == "webhooks":
            hooks = store.webhooks()
            if not hooks:
                print("no webhooks; add one with `clienteling central add-webhook --url URL`")
            for hook in hooks:
                state = "" if hook.active else " (inactive)"
                print(f"{hook.id}  {hook.url}  {','.join(hook.types)}  since {hook.created_at[:19]}{state}")
            return 0
        if args.replay is not None:
            try:
                event_id = int(args.replay)
            except ValueError:
                return _fail(f"--replay wants an event id (a number, as `events --failed` lists), not {args.replay!r}")
            count = store.replay(event_id, args.webhook)
            print(f"event {event_id}: {count} failed deliver{'y' if count == 1 else 'ies'} sent again")
            return 0
    except WebhookError as refusal:
        return _fail(str(refusal))
    if args.limit < 1:
        return _fail("--limit must be 1 or more")
    rows = store.event_rows(failed=args.failed, limit=args.limit)
    if not rows:
        print("no failed deliveries" if args.failed else "no events yet")
        return 0
    table = [("EVENT", "TYPE", "SUBJECT", "OCCURRED", "WEBHOOK", "STATUS", "ATTEMPTS", "LAST ERROR")]
    for row in rows:
        status = row.status or "no webhook"
        if row.behind is not None:
            status = f"waiting behind {row.behind}"
        table.append(
            (
                str(row.event_id),
                row.type,
                row.subject,
                row.occurred_at[:19],
                row.webhook_id or "-",
                status,
                str(row.attempts),
                row.last_error or "",
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    if args.failed:
        print("replay one with: clienteling central events --replay EVENT")
    return 0


def outreach_command(store, args: argparse.Namespace) -> int:
    """`central outreach-messages` and `outreach-reply` (clienteling.central.outreach)."""
    import uuid

    from clienteling.contract import InboundMessage

    if args.admin == "outreach-reply":
        message = store.message_row(args.message_id)
        if message is None:
            return _fail(f"there is no message {args.message_id} (`clienteling central outreach-messages` lists them)")
        reply = InboundMessage(channel=message.channel, text=args.text, reference=message.id)
        answer = store.receive_reply(reply, f"sink-{uuid.uuid4().hex}", "local-sink")
        if answer.status >= 400:
            return _fail(json.loads(answer.body).get("detail", answer.body))
        print(f"{message.customer_id} replied to {message.id} in conversation {json.loads(answer.body)['id']}")
        return 0
    if args.retry:
        if not store.retry_message(args.retry):
            return _fail(f"there is no failed message {args.retry} to retry")
        print(f"message {args.retry} will be handed to the provider again")
        return 0
    if args.limit < 1:
        return _fail("--limit must be 1 or more")
    if args.sink:
        received = store.sink_messages(args.limit)
        if not received:
            print("the local sink has received no messages yet")
        for item in received:
            print(f"{item.received_at.isoformat()[:19]}  {item.reference}  {item.channel}  {item.to}  {item.text}")
        return 0
    rows = store.message_rows(args.limit)
    if not rows:
        print("no messages sent from stores yet")
        return 0
    table = [("MESSAGE", "CUSTOMER", "CHANNEL", "TO", "STAFF", "STORE", "SENT", "DELIVERY", "ATTEMPTS", "LAST ERROR")]
    for row in rows:
        table.append(
            (
                row.id,
                row.customer_id,
                row.channel,
                row.to,
                row.staff_id,
                row.store,
                row.sent_at[:19],
                row.status,
                str(row.attempts),
                row.last_error or "",
            )
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip())
    return 0


def _profile_read_limit(text: str | None):
    """`--profile-reads BURST,PER_SECOND` as a limiter (None: the defaults), or a message saying what is wrong."""
    from clienteling.central.readlimit import parse_limit

    if text is None:
        return None
    try:
        return parse_limit(text)
    except ValueError:
        return f"--profile-reads wants BURST,PER_SECOND (for example 60,10), not {text!r}"


def _announce(host: str, port: int, demo: bool, workers: int = 1) -> None:
    demo_line = " (demo: device tokens are demo-<STORE>, for example demo-AMS01)" if demo else ""
    workers_line = f" in {workers} worker processes" if workers > 1 else ""
    print(f"central API on http://{host}:{port}{workers_line}{demo_line}; OpenAPI at /docs", flush=True)


def serve_central(store, *, host: str, port: int, demo: bool, profile_reads=None) -> int:
    import logging

    import uvicorn

    from clienteling.central.app import create_app

    # The centre's own warnings (a possible export of profiles, an unhandled error) go to its output, with the time.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    _announce(host, port, demo)
    # A held long poll (GET /v1/sync/wait) would hold a stop for up to 30 s: give requests 3 s, then end them.
    uvicorn.run(
        create_app(store, demo=demo, profile_reads=profile_reads),
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=3,
    )
    return 0


def serve_workers(db: Path, workers: int, *, host: str, port: int, demo: bool, profile_reads: str | None) -> int:
    """Serve the centre in `workers` processes on one socket (uvicorn's supervisor; the system spreads the
    connections). Each worker builds its app with `app_from_environment` from the variables set here; the demo chain
    was made above, once, before any worker starts."""
    import os

    import uvicorn

    from clienteling.central.app import WORKER_DB, WORKER_DEMO, WORKER_PROFILE_READS

    os.environ[WORKER_DB] = str(db)
    os.environ[WORKER_DEMO] = "1" if demo else "0"
    if profile_reads:
        os.environ[WORKER_PROFILE_READS] = profile_reads
    else:
        os.environ.pop(WORKER_PROFILE_READS, None)
    _announce(host, port, demo, workers)
    uvicorn.run(
        "clienteling.central.app:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=3,
    )
    return 0
