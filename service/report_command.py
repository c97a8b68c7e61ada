"""`starter.py report`: write the pilot report (HTML, Markdown or CSV) to a file."""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker

from reporting.model import PILOT_CONVERSATIONS, PILOT_DAYS, PilotReport
from reporting.pilot import gather_pilot
from reporting.render import FORMATS, Format, render_report
from service.runtime import open_store
from service.settings import Settings


def default_since(now: datetime | None = None) -> datetime:
    """Midnight (UTC) 44 days before today: with the default end, the 45 days up to and
    including today."""
    now = now or datetime.now(UTC)
    first = now.date() - timedelta(days=PILOT_DAYS - 1)
    return datetime.combine(first, datetime.min.time(), UTC)


def default_path(settings: Settings, since: datetime, fmt: Format, queue: str | None) -> Path:
    """`<data dir>/reports/pilot-<since>[-<queue>].<format>`."""
    suffix = f"-{re.sub(r'[^A-Za-z0-9._-]+', '-', queue).strip('-.') or 'queue'}" if queue else ""
    return settings.data_dir / "reports" / f"pilot-{since:%Y-%m-%d}{suffix}.{fmt}"


async def write_report(
    sessions: async_sessionmaker,
    path: Path,
    since: datetime,
    until: datetime | None = None,
    queue: str | None = None,
    conversations: int = PILOT_CONVERSATIONS,
    fmt: Format = "html",
) -> PilotReport:
    async with sessions() as session:
        report = await gather_pilot(session, since, until, queue, conversations)
    await asyncio.to_thread(_save, path, render_report(report, fmt))
    return report


def _save(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")


async def report_for_demo(sessions: async_sessionmaker, settings: Settings, ran_for: float) -> Path:
    """The demo's HTML pilot report: its window starts when the run did (to the minute)."""
    since = (datetime.now(UTC) - timedelta(seconds=ran_for)).replace(second=0, microsecond=0)
    path = default_path(settings, since, "html", None)
    await write_report(sessions, path, since)
    return path


def verdict(report: PilotReport) -> str:
    card = report.metrics.scorecard
    share = "-" if card.rate is None else f"{card.rate:.1%}"
    return (
        f"scorecard completion {share} of {card.sampled} sampled conversations "
        f"(threshold {card.threshold:.0%}): {'met' if card.met else 'not met'}"
    )


async def report(settings: Settings, args: argparse.Namespace) -> int:
    since = args.since or default_since()
    if args.until is not None and args.until <= since:
        print(f"--until: must be later than --since ({since:%Y-%m-%d %H:%M} UTC)", file=sys.stderr)
        return 2
    path = args.out or default_path(settings, since, args.format, args.queue)
    async with open_store(settings) as sessions:
        try:
            written = await write_report(
                sessions, path, since, args.until, args.queue, args.conversations, args.format
            )
        except OSError as exc:
            print(f"--out: cannot write {path}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    print(verdict(written))
    print(f"pilot report written to {path}")
    return 0


def _queue(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("a queue name, not blank")
    return text


def _conversations(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 100000")
    return value


def add_report_parser(sub, date: Callable[[str], datetime]) -> None:
    p = sub.add_parser("report", help="write the pilot report: html, md or csv")
    p.add_argument(
        "--since",
        type=date,
        metavar="DATE",
        help=f"the first day (default: {PILOT_DAYS - 1} days ago, so the pilot ends today)",
    )
    p.add_argument(
        "--until",
        type=date,
        metavar="DATE",
        help=f"the end, excluded (default: {PILOT_DAYS} days after --since)",
    )
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--queue", type=_queue, metavar="Q", help="the pilot covers this one queue")
    scope.add_argument(
        "--conversations",
        type=_conversations,
        default=PILOT_CONVERSATIONS,
        metavar="N",
        help="without --queue: how many resolved conversations the workflow test covers "
        f"(default {PILOT_CONVERSATIONS}, the first assessed in the window)",
    )
    p.add_argument("--format", choices=FORMATS, default="html")
    p.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help="the file to write (default: reports/ in the data folder)",
    )
    p.set_defaults(run=lambda args, settings: asyncio.run(report(settings, args)))
