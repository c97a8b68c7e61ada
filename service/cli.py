"""`python starter.py COMMAND`: the command-line interface (DESIGN §8)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from datetime import datetime
from pathlib import Path

from domain.coaching import DECISION_ACTIONS
from domain.lifecycle import RESOLUTIONS
from domain.people import ROLES
from intake.errors import IntakeError
from intake.generic import read_export
from opportunities.catalog import Catalog
from service import commands, lifecycle_commands, schedule_commands, user_commands
from service.eval_command import add_eval_parser
from service.metrics_command import add_metrics_parser
from service.report_command import add_report_parser
from service.settings import Settings, SettingsError
from service.updates import CommandError

SOURCES = ("generic",)


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from service.runtime import catalog_for

    catalog = catalog_for(settings)
    if args.json:
        _print_json(
            {
                "ok": not catalog.problems,
                "problems": [str(p) for p in catalog.problems],
                "opportunities": sorted(catalog.opportunities),
                "rubrics": sorted(catalog.rubrics),
                "surveys": sorted(catalog.surveys),
            }
        )
        return 1 if catalog.problems else 0
    for problem in catalog.problems:
        print(problem)
    summary = (
        f"{len(catalog.opportunities)} opportunities, {len(catalog.rubrics)} rubric versions, "
        f"{len(catalog.surveys)} survey templates"
    )
    if catalog.problems:
        print(f"{len(catalog.problems)} problem(s); {summary} valid", file=sys.stderr)
        return 1
    print(f"ok: {summary}")
    return 0


def _require_valid(catalog: Catalog) -> None:
    if catalog.problems:
        for problem in catalog.problems:
            print(problem, file=sys.stderr)
        raise SystemExit("the definitions have problems; fix them (see `starter.py check`)")


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    events, invalid = [], 0
    for _where, parsed in read_export(path, source=args.source):
        if isinstance(parsed, IntakeError):
            invalid += 1
            print(f"rejected {parsed}", file=sys.stderr)
        else:
            events.append(parsed)
    summary = asyncio.run(commands.ingest(settings, events, wait=not args.no_wait, quiet=args.json))
    summary["invalid"] = invalid
    if args.json:
        _print_json(summary)
    else:
        print(commands.ingest_line(summary))
    return 1 if invalid else 0


def _queue(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(commands.queue(settings, args))


def _show(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(commands.show(settings, args.id, args.json))


def _pairs(items: list[str] | None, name: str, convert) -> dict:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"--{name} takes CRITERION=VALUE, got {item!r}")
        try:
            out[key] = convert(value)
        except ValueError:
            raise SystemExit(f"--{name} {key}: {value!r} is not a valid value") from None
    return out


def _decide(args: argparse.Namespace, settings: Settings) -> int:
    fields = {
        "action": args.action,
        "reason": args.reason,
        "scores": _pairs(args.score, "score", float),
        "causes": _pairs(args.cause, "cause", str),
        "note": args.note,
    }
    return asyncio.run(commands.decide(settings, args, fields))


def _assess(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(
        commands.assess(
            settings, args.ticket, args.rubric, args.as_user, args.opportunity, args.json
        )
    )


def _users(args: argparse.Namespace, settings: Settings) -> int:
    if args.users_command == "add":
        return asyncio.run(
            user_commands.users_add(
                settings, args.name, args.role, args.team or [], args.group or [], args.json
            )
        )
    if args.users_command == "token":
        return asyncio.run(user_commands.users_token(settings, args.name, args.json))
    if args.users_command == "role":
        return asyncio.run(user_commands.users_role(settings, args.name, args.role, args.json))
    return asyncio.run(user_commands.users_list(settings, args.json))


def _tasks(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(lifecycle_commands.tasks(settings, args.as_user, args.status, args.json))


def _complete(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(lifecycle_commands.complete(settings, args.task_id, args.as_user, args.json))


def _surveys(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(lifecycle_commands.surveys(settings, args.as_user, args.status, args.json))


def _answer(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(
        lifecycle_commands.answer(settings, args.survey_id, args.as_user, args.answer, args.json)
    )


def _ack(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(lifecycle_commands.respond(settings, args.id, args.as_user, None, args.json))


def _dispute(args: argparse.Namespace, settings: Settings) -> int:
    if not args.reason.strip():
        print("--reason: a dispute needs a reason", file=sys.stderr)
        return 2
    return asyncio.run(
        lifecycle_commands.respond(settings, args.id, args.as_user, args.reason, args.json)
    )


def _resolve(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(
        lifecycle_commands.resolve(
            settings, args.id, args.resolution, args.as_user, args.note, args.json
        )
    )


def _skills(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(lifecycle_commands.skills(settings, args.as_user, args.json))


def _demo(args: argparse.Namespace, settings: Settings) -> int:
    from service.demo import run_demo

    return asyncio.run(run_demo(settings, count=args.count))


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    from alembic.script import ScriptDirectory

    from store.migrate import alembic_config, upgrade

    asyncio.run(upgrade(settings.db_url))
    head = ScriptDirectory.from_config(alembic_config(settings.db_url)).get_current_head()
    print(f"database schema at revision {head}")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(commands.serve(settings, args.host))


def _dev(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(commands.dev(settings, args.port))


def _date(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date such as 2026-11-01") from None
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value


def _as(p: argparse.ArgumentParser, who: str, alias: str | None = None) -> None:
    names = ("--as", alias) if alias else ("--as",)
    p.add_argument(
        *names, dest="as_user", required=True, metavar="NAME", help=f"{who}, from `users list`"
    )


def _users_parser(sub) -> None:
    p = sub.add_parser("users", help="the user directory: add and list users")
    users = p.add_subparsers(dest="users_command", required=True, metavar="add|list|token|role")
    add = users.add_parser("add", help="add a user and print their bearer token")
    add.add_argument("name")
    add.add_argument("--role", required=True, help=" | ".join(ROLES))
    add.add_argument("--team", action="append", help="repeatable: teams the user belongs to")
    add.add_argument("--group", action="append", help="repeatable: reviewer groups (leads)")
    add.add_argument("--json", action="store_true")
    listing = users.add_parser("list", help="list the users")
    listing.add_argument("--json", action="store_true")
    token = users.add_parser("token", help="issue a new bearer token (the old one stops working)")
    token.add_argument("name")
    token.add_argument("--json", action="store_true")
    role = users.add_parser("role", help="change a user's role (their page sessions end)")
    role.add_argument("name")
    role.add_argument("--role", required=True, help=" | ".join(ROLES))
    role.add_argument("--json", action="store_true")
    p.set_defaults(run=_users)


def _schedule(args: argparse.Namespace, settings: Settings) -> int:
    sc = schedule_commands
    command = args.schedule_command
    if command == "qa-sample":
        return asyncio.run(
            sc.cli_create(
                settings,
                args.opportunity,
                args.per_agent,
                args.every,
                args.id,
                args.paused,
                args.json,
            )
        )
    if command == "list":
        return asyncio.run(sc.cli_list(settings, args.json))
    if command in ("pause", "unpause"):
        return asyncio.run(sc.cli_pause(settings, args.id, command == "pause", args.json))
    if command == "delete":
        return asyncio.run(sc.cli_delete(settings, args.id, args.json))
    if command == "trigger":
        return asyncio.run(sc.cli_trigger(settings, args.id, not args.no_wait, args.json))
    return asyncio.run(sc.cli_report(settings, args.opportunity, args.limit, args.json))


def _every(text: str):
    from domain.durations import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _per_agent(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 100")
    return value


def _schedule_parser(sub) -> None:
    p = sub.add_parser("schedule", help="the QA sample's Temporal Schedule and its runs")
    schedules = p.add_subparsers(
        dest="schedule_command",
        required=True,
        metavar="qa-sample|list|pause|unpause|delete|trigger|report",
    )
    create = schedules.add_parser("qa-sample", help="create the fair QA-sample schedule")
    create.add_argument(
        "--every", type=_every, default="7d", help="how often, and the window each run covers"
    )
    create.add_argument(
        "--per-agent", type=_per_agent, default=5, help="at most this many per agent"
    )
    create.add_argument("--opportunity", default="weekly-qa-sample")
    create.add_argument("--id", help="schedule id (default qa-sample/OPPORTUNITY)")
    create.add_argument("--paused", action="store_true", help="create it paused")
    create.add_argument("--json", action="store_true")
    listing = schedules.add_parser("list", help="the schedules, their state and next run")
    listing.add_argument("--json", action="store_true")
    for name, what in (
        ("pause", "pause a schedule"),
        ("unpause", "resume a paused schedule"),
        ("delete", "delete a schedule"),
        ("trigger", "run a schedule's action now"),
    ):
        one = schedules.add_parser(name, help=what)
        one.add_argument("id", metavar="ID")
        if name == "trigger":
            one.add_argument("--no-wait", action="store_true", help="do not wait for the run")
        one.add_argument("--json", action="store_true")
    report = schedules.add_parser("report", help="the latest sample runs against their population")
    report.add_argument("--opportunity")
    report.add_argument("--limit", type=int, default=5)
    report.add_argument("--json", action="store_true")
    p.set_defaults(run=_schedule)


def _lifecycle_parsers(sub) -> None:
    p = sub.add_parser("tasks", help="a trainee's learning tasks")
    _as(p, "the trainee")
    p.add_argument("--status", choices=("open", "completed", "incomplete"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_tasks)

    p = sub.add_parser("complete", help="the trainee completes a learning task")
    p.add_argument("task_id", type=int, metavar="TASK_ID")
    _as(p, "the trainee")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_complete)

    p = sub.add_parser("surveys", help="a coach's or trainee's surveys, with their questions")
    _as(p, "the respondent")
    p.add_argument("--status", choices=("open", "answered", "expired"))
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_surveys)

    p = sub.add_parser("answer", help="answer a survey")
    p.add_argument("survey_id", type=int, metavar="SURVEY_ID")
    _as(p, "the respondent")
    p.add_argument(
        "--answer", action="append", required=True, metavar="QUESTION=VALUE", help="repeatable"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_answer)

    p = sub.add_parser("ack", help="the trainee acknowledges the coaching")
    p.add_argument("id", metavar="ASSESSMENT")
    _as(p, "the trainee")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_ack)

    p = sub.add_parser("dispute", help="the trainee disputes the coaching")
    p.add_argument("id", metavar="ASSESSMENT")
    _as(p, "the trainee")
    p.add_argument("--reason", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_dispute)

    p = sub.add_parser("resolve", help="another lead resolves a dispute")
    p.add_argument("id", metavar="ASSESSMENT")
    p.add_argument("resolution", choices=RESOLUTIONS)
    _as(p, "the resolving lead (not the one who decided)")
    p.add_argument("--note", help="the amended note (required to amend)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_resolve)

    p = sub.add_parser("skills", help="a trainee's awarded skills")
    _as(p, "the trainee")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_skills)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="starter.py", description="coachflow command line")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="run the embedded stack end to end on bundled sample tickets")
    p.add_argument("--count", type=int, default=100, help="how many sample conversations")
    p.set_defaults(run=_demo)

    p = sub.add_parser("dev", help="run the Temporal dev server and a worker until stopped")
    p.add_argument("--port", type=int, default=7233)
    p.set_defaults(run=_dev)

    p = sub.add_parser("serve", help="serve the web app (port: COACHFLOW_WEB_PORT)")
    p.add_argument("--host", default="127.0.0.1", help="0.0.0.0 in a container")
    p.set_defaults(run=_serve)

    p = sub.add_parser("migrate", help="apply the database migrations (Alembic) and exit")
    p.set_defaults(run=_migrate)

    p = sub.add_parser("ingest", help="ingest an export file of events")
    p.add_argument("file")
    p.add_argument("--source", choices=SOURCES, default="generic")
    p.add_argument("--no-wait", action="store_true", help="do not wait for the drafts")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_ingest)

    p = sub.add_parser("check", help="validate opportunity and rubric files")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_check)

    p = sub.add_parser("queue", help="list what awaits review")
    p.add_argument(
        "--status", action="append", help="repeatable; default: awaiting_review, stopped"
    )
    p.add_argument("--all", action="store_true", help="every status")
    p.add_argument("--opportunity")
    p.add_argument("--agent")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_queue)

    p = sub.add_parser("show", help="show one assessment (numeric id or workflow id)")
    p.add_argument("id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_show)

    p = sub.add_parser("decide", help="the lead's decision on an assessment")
    p.add_argument("id")
    p.add_argument("action", choices=DECISION_ACTIONS)
    _as(p, "the deciding lead", alias="--lead")
    p.add_argument("--to", metavar="LEAD", help="reassign: the lead who takes it over")
    p.add_argument("--reason")
    p.add_argument("--score", action="append", metavar="CRITERION=SCORE")
    p.add_argument("--cause", action="append", metavar="CRITERION=CAUSE")
    p.add_argument("--note")
    p.add_argument(
        "--request-id",
        default=None,
        help="idempotency key: the same key twice applies the decision once",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_decide)

    p = sub.add_parser("assess", help="a lead opens an assessment of a stored ticket")
    p.add_argument("ticket", metavar="SOURCE/ID")
    p.add_argument("--rubric", required=True, help="an approved rubric: id or id@version")
    _as(p, "the lead who opens it", alias="--lead")
    p.add_argument("--opportunity", help="borrow its review SLA and learning tasks")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_assess)

    _lifecycle_parsers(sub)

    _users_parser(sub)

    _schedule_parser(sub)

    add_report_parser(sub, _date)

    add_metrics_parser(sub, _date)

    add_eval_parser(sub, _date)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "request_id", "") is None:
        args.request_id = uuid.uuid4().hex
    try:
        return args.run(args, Settings())
    except CommandError as exc:
        print(exc, file=sys.stderr)
        return exc.code
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
