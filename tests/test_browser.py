"""The pages in a real browser: a lead signs in, opens the queue, overrides an assessment with a
reason (empathy to 0, so a learning task is assigned), and the trainee signs in and completes
that task on /me.

The app is served by a live uvicorn server on 127.0.0.1, as a task on the test's own event loop
(the app's Temporal client and database engine belong to that loop). Chromium is the Debian
package at /usr/bin/chromium; when it is missing the test installs it with apt-get, and skips
only when that is impossible here. Screenshots go to the test's tmp_path.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from store.models import DecisionRow, LearningTaskRow, SkillRow
from tests.app_support import listening
from tests.factories import make_event
from tests.helpers import assessment_of, until_drafted

log = logging.getLogger(__name__)

CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> tuple[Path | None, str | None]:
    """Chromium's path, installing the Debian package when it is missing; or why it cannot."""
    if CHROMIUM.exists():
        return CHROMIUM, None
    if shutil.which("apt-get") is None:
        return None, "Chromium is missing and there is no apt-get to install it"
    if os.geteuid() != 0:
        return None, "Chromium is missing and `apt-get install -y chromium` needs root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        try:
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"`{' '.join(command)}` failed: {exc}"
        if done.returncode != 0:
            tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            return None, f"`{' '.join(command)}` failed: {tail}"
    if not CHROMIUM.exists():
        return None, "`apt-get install -y chromium` did not provide /usr/bin/chromium"
    return CHROMIUM, None


@pytest.fixture(scope="session")
def chromium() -> Path:
    path, reason = ensure_chromium()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the browser test, but: {reason}")
        pytest.skip(f"no browser: {reason}")
    return path


class _Server(uvicorn.Server):
    """Leaves the process's signal handlers alone: Ctrl-C still stops pytest."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@pytest.fixture
async def live_url(web_app) -> AsyncIterator[str]:
    server = _Server(uvicorn.Config(web_app, lifespan="off", log_level="warning"))
    async with listening(server) as url:
        yield url


async def test_a_lead_overrides_in_the_browser_and_the_trainee_completes_the_task(
    chromium, live_url, tokens, intake, dev_client, sessions, ticket_id, tmp_path
):
    from playwright.async_api import async_playwright, expect

    result = await intake.ingest(make_event(**{"ticket.id": ticket_id}))
    (workflow_id,) = result.started
    await until_drafted(dev_client, workflow_id)
    drafted = await assessment_of(sessions, workflow_id)
    shots: list[Path] = []
    problems: list[str] = []

    async def shot(page, name: str) -> None:
        path = tmp_path / f"{len(shots) + 1:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        shots.append(path)
        log.info("screenshot: %s", path)
        print(f"screenshot: {path}")

    async def part(locator, name: str) -> None:
        path = tmp_path / f"{len(shots) + 1:02d}-{name}.png"
        await locator.screenshot(path=str(path))
        shots.append(path)
        log.info("screenshot: %s", path)
        print(f"screenshot: {path}")

    def watch(page) -> None:
        """Console errors (a blocked stylesheet, a CSP violation) fail the test."""
        page.on(
            "console",
            lambda m: problems.append(f"{page.url}: {m.text}") if m.type == "error" else None,
        )
        page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(chromium), args=["--no-sandbox"])
        try:
            # (1) The lead signs in: the queue redirects to the sign-in page and back.
            lead = await browser.new_context(viewport={"width": 1280, "height": 900})
            page = await lead.new_page()
            watch(page)
            await page.goto(f"{live_url}/queue")
            await expect(page).to_have_url(f"{live_url}/login?next=%2Fqueue")
            await page.get_by_label("Name").fill("lee")
            await page.get_by_label("Token").fill(tokens["lee"])
            await page.get_by_role("button", name="Sign in").click()

            # (2) The queue, with the draft and its age against the 3-day review SLA.
            await expect(page).to_have_url(f"{live_url}/queue")
            await expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
            row = page.locator("table.queue tbody tr").filter(has_text=f"#{drafted.id}")
            await expect(row).to_contain_text("of 3d")
            await shot(page, "queue")

            # (3) The assessment: the thread with marked evidence, then the override.
            await row.get_by_role("link").click()
            await expect(page).to_have_url(f"{live_url}/assessments/{drafted.id}")
            await expect(page.locator("#msg-m2 mark").first).to_be_visible()
            await page.get_by_text("Override", exact=True).click()
            await page.get_by_label("Score for Acknowledges the customer's situation").fill("0")
            await page.get_by_label("Reason for the override").fill("no empathy in reply 2")
            await shot(page, "override-form")
            await page.get_by_role("button", name="Override and release").click()
            await expect(page).to_have_url(f"{live_url}/assessments/{drafted.id}?done=override")
            await expect(page.locator(".notice")).to_contain_text("Override recorded")
            await expect(page.locator("table.tasks")).to_contain_text("Empathy in written replies")
            await shot(page, "overridden")
            thread = page.locator("section").filter(
                has=page.get_by_role("heading", name="Thread", exact=True)
            )
            await part(thread, "thread")
            await page.get_by_role("link", name="Dashboard").click()
            await expect(page.locator("svg.chart").first).to_be_visible()
            await expect(page.locator(".tiles")).to_contain_text("100%")
            await shot(page, "dashboard")

            # (4) The trainee signs in, in a separate browser context, and completes the task.
            trainee = await browser.new_context(viewport={"width": 1280, "height": 900})
            page = await trainee.new_page()
            watch(page)
            await page.goto(f"{live_url}/login")
            await page.get_by_label("Name").fill("a-17")
            await page.get_by_label("Token").fill(tokens["a-17"])
            await page.get_by_role("button", name="Sign in").click()
            await expect(page).to_have_url(f"{live_url}/me")
            task_row = page.locator("tr.task-row").filter(has_text="Empathy in written replies")
            await expect(task_row).to_contain_text("open")
            await shot(page, "me-open-task")
            await task_row.get_by_role("button", name="Mark complete").click()
            await expect(page).to_have_url(f"{live_url}/me?done=task")
            await expect(page.locator(".notice")).to_contain_text("Task completed.")
            await expect(page.locator(".skills")).to_contain_text("empathy")
            await expect(task_row).to_contain_text("completed")
            await shot(page, "me-task-done")
            await lead.close()
            await trainee.close()
        finally:
            await browser.close()

    assert not problems, problems
    async with sessions() as session:
        decision = (await session.execute(select(DecisionRow))).scalar_one()
        task = (await session.execute(select(LearningTaskRow))).scalar_one()
        skill = (await session.execute(select(SkillRow))).scalar_one()
    assert (decision.action, decision.lead, decision.reason) == (
        "override",
        "lee",
        "no empathy in reply 2",
    )
    assert [(c["criterion_id"], c["after"]) for c in decision.changes] == [("empathy", 0.0)]
    assert (task.task_key, task.status, task.trainee_id) == (
        "empathy-refresher",
        "completed",
        "a-17",
    )
    assert skill.skill == "empathy"
    assert all(p.stat().st_size > 10_000 for p in shots), shots
