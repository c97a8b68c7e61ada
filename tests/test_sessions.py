"""Page sessions end when they should, sign-ins are throttled and audited, and a sign-in from
another site is refused.

Sessions: signing out, a new token or a role change ends every session of the user; a session
ends 8 h after its last request and 12 h after sign-in (an injected clock, no sleeping). Sign-in:
5 failures lock a name from one address and 20 an address, for 30 s, doubling; a locked sign-in
is answered 429 with Retry-After before the token is looked at, and a burst is counted one by
one; a valid bearer token is always taken, a wrong one from a locked address gets 429;
successes, failures and token issues are in the audit log with the name (`-` for one that is no
user's) and the address, never the token. The sign-in form carries a CSRF token bound to a
short-lived cookie, and the key that signs it all is never empty or short.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select, update

import web.pages.login
from service.settings import Settings
from service.user_commands import users_role, users_token
from store.models import AuditRow, UserRow
from tests.app_support import FORM_CSRF, http_client, login_form_token, post_login
from tests.helpers import bearer
from web.app import create_app
from web.auth import SESSION_COOKIE
from web.serve import KEY_POLL_SECONDS, KEY_WAIT_SECONDS, MIN_KEY_LENGTH, secret_key

HOUR = 3600
T0 = 1_800_000_000.0
# The documented limits (README, Web and API).
IDLE_SECONDS, ABSOLUTE_SECONDS, RENEW_AFTER = 8 * HOUR, 12 * HOUR, 5 * 60
NAME_LIMIT, ADDRESS_LIMIT, FIRST_LOCK = 5, 20, 30


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def app(web_context, clock):
    """The web app on the test database, its clock the test's."""
    app = create_app(web_context)
    app.state.clock = clock
    return app


@pytest.fixture
async def browser(app) -> AsyncIterator:
    """A new browser (its own cookie jar) on the app, per call."""
    clients: list[httpx.AsyncClient] = []

    def make(address: str = "127.0.0.1") -> httpx.AsyncClient:
        client = http_client(app, address)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def signed_in(browser, tokens, name: str) -> httpx.AsyncClient:
    client = browser()
    response = await post_login(client, name, tokens[name])
    assert response.status_code == 303, response.text
    return client


def replayed(browser, client: httpx.AsyncClient) -> httpx.AsyncClient:
    """Another browser holding a copy of `client`'s session cookie, as a thief would."""
    thief = browser()
    thief.cookies.set(SESSION_COOKIE, client.cookies[SESSION_COOKIE])
    return thief


async def opens(client: httpx.AsyncClient, path: str) -> bool:
    response = await client.get(path)
    if response.status_code == 303:
        assert response.headers["location"].startswith("/login"), response.headers["location"]
        return False
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return True


async def _audit(sessions) -> list[AuditRow]:
    async with sessions() as session:
        return list((await session.execute(select(AuditRow).order_by(AuditRow.id))).scalars())


# --- sessions end ------------------------------------------------------------------------------


async def test_signing_out_ends_the_old_cookie_and_the_user_s_other_sessions(browser, tokens):
    lead = await signed_in(browser, tokens, "lee")
    elsewhere = await signed_in(browser, tokens, "lee")
    copy = replayed(browser, lead)
    assert await opens(copy, "/queue") and await opens(elsewhere, "/queue")

    csrf = FORM_CSRF.search((await lead.get("/queue")).text).group(1)
    out = await lead.post("/logout", data={"csrf": csrf})
    assert out.status_code == 303 and out.headers["location"] == "/login"

    assert not await opens(copy, "/queue")
    assert not await opens(elsewhere, "/queue")
    assert not await opens(replayed(browser, elsewhere), "/dashboard")
    # Signing in again starts a session that works, and the API token still does.
    assert await opens(await signed_in(browser, tokens, "lee"), "/queue")
    assert (await copy.get("/api/me/tasks", headers=bearer(tokens["lee"]))).status_code == 200


async def test_a_new_token_ends_the_old_cookie_and_the_old_token(
    browser, tokens, sessions, database_url, tmp_path, capsys
):
    trainee = await signed_in(browser, tokens, "a-17")
    copy = replayed(browser, trainee)
    assert await opens(copy, "/me")
    capsys.readouterr()

    settings = Settings(data_dir=tmp_path, database_url=database_url)
    assert await users_token(settings, "a-17", as_json=True) == 0
    new_token = json.loads(capsys.readouterr().out)["token"]

    assert not await opens(copy, "/me")
    assert not await opens(trainee, "/me")
    old = await copy.get("/api/me/tasks", headers=bearer(tokens["a-17"]))
    assert old.status_code == 401
    assert await opens(await signed_in(browser, {"a-17": new_token}, "a-17"), "/me")


async def test_a_role_change_ends_the_old_cookie(
    browser, tokens, sessions, database_url, tmp_path, capsys
):
    lead = await signed_in(browser, tokens, "lee")
    assert await opens(lead, "/queue")
    async with sessions() as session, session.begin():
        await session.execute(update(UserRow).where(UserRow.name == "lee").values(role="admin"))
    assert not await opens(lead, "/dashboard"), "a role changed by hand in the directory"

    admin = await signed_in(browser, tokens, "ada")
    assert await opens(admin, "/admin")
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    capsys.readouterr()
    assert await users_role(settings, "ada", "lead", as_json=True) == 0
    assert json.loads(capsys.readouterr().out) == {"name": "ada", "role": "lead"}
    assert not await opens(admin, "/queue")
    (entry,) = [e for e in await _audit(sessions) if e.action == "user.role_changed"]
    assert (entry.actor, entry.target, entry.details) == (
        "cli",
        "user:ada",
        {"from": "admin", "to": "lead"},
    )
    assert await users_role(settings, "ada", "boss", as_json=False) == 2
    assert await users_role(settings, "nobody", "lead", as_json=False) == 1


async def test_a_session_ends_8_hours_after_its_last_request(browser, tokens, clock):
    idle = await signed_in(browser, tokens, "lee")
    active = await signed_in(browser, tokens, "lee")

    clock.advance(RENEW_AFTER - 1)
    quiet = await active.get("/queue")
    assert quiet.status_code == 200 and SESSION_COOKIE not in quiet.headers.get("set-cookie", "")
    clock.advance(IDLE_SECONDS - RENEW_AFTER)
    renewed = await active.get("/queue")
    assert renewed.status_code == 200
    assert renewed.headers["set-cookie"].startswith(f"{SESSION_COOKIE}=")

    clock.advance(2)
    assert not await opens(idle, "/queue"), "8 h without a request"
    assert await opens(active, "/queue"), "renewed a moment ago"


async def test_a_session_ends_12_hours_after_sign_in_however_active(browser, tokens, clock):
    lead = await signed_in(browser, tokens, "lee")
    for _ in range(ABSOLUTE_SECONDS // HOUR - 1):
        clock.advance(HOUR)
        assert await opens(lead, "/queue")
    clock.advance(HOUR - 1)
    assert await opens(lead, "/queue")
    clock.advance(1)
    assert not await opens(lead, "/queue")


# --- sign-in limits ----------------------------------------------------------------------------


async def test_wrong_tokens_lock_the_name_and_even_the_right_token_gets_429(
    browser, tokens, clock, sessions
):
    client = browser()
    for _ in range(NAME_LIMIT):
        assert (await post_login(client, "lee", "cf_guess")).status_code == 401
    audited = len(await _audit(sessions))

    locked = await post_login(client, "lee", tokens["lee"])
    assert locked.status_code == 429 and locked.headers["retry-after"] == str(FIRST_LOCK)
    assert SESSION_COOKIE not in locked.headers.get("set-cookie", "")
    assert f"try again in {FIRST_LOCK} s" in locked.text
    assert len(await _audit(sessions)) == audited, "a refused attempt checks and records nothing"
    # Another name from the same address is not locked by it, nor the same name elsewhere.
    assert (await post_login(browser(), "sam", tokens["sam"])).status_code == 303
    assert (await post_login(browser("10.9.8.7"), "lee", tokens["lee"])).status_code == 303

    clock.advance(FIRST_LOCK)
    assert (await post_login(client, "lee", "cf_guess")).status_code == 401
    doubled = await post_login(client, "lee", tokens["lee"])
    assert doubled.status_code == 429 and doubled.headers["retry-after"] == str(2 * FIRST_LOCK)
    clock.advance(2 * FIRST_LOCK)
    assert (await post_login(client, "lee", tokens["lee"])).status_code == 303


@pytest.fixture
def token_checks(monkeypatch) -> list[str]:
    """The tokens the sign-in looks up, in order: each one a guess that reached the check."""
    checked: list[str] = []
    looked_up = web.pages.login.user_by_token

    async def counting(session, token: str):
        checked.append(token)
        return await looked_up(session, token)

    monkeypatch.setattr(web.pages.login, "user_by_token", counting)
    return checked


async def test_a_burst_of_sign_ins_is_counted_before_any_is_checked(
    browser, sessions, token_checks
):
    clients = [browser() for _ in range(3 * NAME_LIMIT)]
    forms = [await login_form_token(c) for c in clients]
    attempts = [
        c.post("/login", data={"csrf": f, "name": "lee", "token": "cf_guess"})
        for c, f in zip(clients, forms, strict=True)
    ]
    answers = [r.status_code for r in await asyncio.gather(*attempts)]
    assert len(token_checks) == NAME_LIMIT, "no more guesses reach the token check than allowed"
    assert answers.count(401) == NAME_LIMIT and answers.count(429) == 2 * NAME_LIMIT
    failed = [e for e in await _audit(sessions) if e.action == "user.login_failed"]
    assert len(failed) == NAME_LIMIT
    # Spread over many names, a burst from one address stops at the address's allowance.
    clients = [browser() for _ in range(2 * ADDRESS_LIMIT)]
    forms = [await login_form_token(c) for c in clients]
    attempts = [
        c.post("/login", data={"csrf": f, "name": f"guess-{i}", "token": "cf_guess"})
        for i, (c, f) in enumerate(zip(clients, forms, strict=True))
    ]
    answers = [r.status_code for r in await asyncio.gather(*attempts)]
    assert len(token_checks) == ADDRESS_LIMIT
    assert answers.count(401) == ADDRESS_LIMIT - NAME_LIMIT


async def test_a_sign_in_from_one_address_does_not_wait_on_another_s(browser, tokens, monkeypatch):
    """Sign-ins are taken one at a time per address, not across the whole site."""
    slow, quick = browser("192.0.2.1"), browser("198.51.100.7")
    slow_form, quick_form = await login_form_token(slow), await login_form_token(quick)
    looked_up = web.pages.login.user_by_token
    slow_checking, quick_checked = asyncio.Event(), asyncio.Event()
    seen_while_slow_waits: list[bool] = []

    async def check(session, token: str):
        if token == "cf_slow":
            slow_checking.set()
            # A slow lookup: yield to the loop, a bounded number of times (no clock involved).
            for _ in range(10_000):
                if quick_checked.is_set():
                    break
                await asyncio.sleep(0)
            seen_while_slow_waits.append(quick_checked.is_set())
        else:
            quick_checked.set()
        return await looked_up(session, token)

    async def quick_sign_in() -> httpx.Response:
        await slow_checking.wait()  # the other address's sign-in is inside its check
        return await quick.post(
            "/login", data={"csrf": quick_form, "name": "sam", "token": tokens["sam"]}
        )

    monkeypatch.setattr(web.pages.login, "user_by_token", check)
    answers = await asyncio.gather(
        slow.post("/login", data={"csrf": slow_form, "name": "lee", "token": "cf_slow"}),
        quick_sign_in(),
    )
    assert [r.status_code for r in answers] == [401, 303]
    assert seen_while_slow_waits == [True], "the other address's sign-in waited for this one"


async def test_a_token_pasted_as_the_name_is_never_recorded(browser, tokens, sessions, caplog):
    token = tokens["lee"]
    # As pasted, and without its prefix: it matches the user-name pattern but is no user's.
    for name in (token, token.removeprefix("cf_"), f"{token}\n"):
        assert (await post_login(browser(), name, token)).status_code == 401
    entries = [e for e in await _audit(sessions) if e.action == "user.login_failed"]
    assert [(e.actor, e.target) for e in entries] == [("-", "user:-")] * 3
    assert caplog.text.count("user.login_failed: '-' from 127.0.0.1") == 3
    stored = json.dumps([(e.actor, e.target, e.details) for e in await _audit(sessions)])
    for secret in (token, token.removeprefix("cf_")):
        assert secret not in caplog.text and secret not in stored


async def test_an_address_is_limited_across_names_and_bearer_tokens(browser, tokens, clock):
    client = browser()
    names = [f"guess-{i}" for i in range(ADDRESS_LIMIT // NAME_LIMIT)]
    for name in names:
        for _ in range(NAME_LIMIT):
            assert (await post_login(client, name, "cf_guess")).status_code == 401
    refused = await post_login(browser(), "lee", tokens["lee"])
    assert refused.status_code == 429 and refused.headers["retry-after"] == str(FIRST_LOCK)
    # The API's bearer tokens share the address's count; a valid one is always taken.
    api = await client.get("/api/me/tasks", headers=bearer("cf_guess"))
    assert api.status_code == 429 and api.headers["retry-after"] == str(FIRST_LOCK)
    assert api.json()["detail"]["error"] == "TooManyAttempts"
    assert (await client.get("/api/me/tasks", headers=bearer(tokens["lee"]))).status_code == 200

    clock.advance(FIRST_LOCK)
    assert (await post_login(browser(), "lee", tokens["lee"])).status_code == 303


async def test_wrong_bearer_tokens_lock_the_address(browser, tokens, clock):
    api = browser()
    for _ in range(ADDRESS_LIMIT):
        wrong = await api.get("/api/me/tasks", headers=bearer("cf_guess"))
        assert wrong.status_code == 401
    wrong = await api.get("/api/me/tasks", headers=bearer("cf_guess"))
    assert wrong.status_code == 429 and wrong.headers["retry-after"] == str(FIRST_LOCK)
    right = await api.get("/api/me/tasks", headers=bearer(tokens["lee"]))
    assert right.status_code == 200, "a valid token behind a locked, shared address still works"
    # The events integration too: its admin token is taken (the empty body is then refused).
    events = await api.post("/events", json={}, headers=bearer(tokens["ada"]))
    assert events.status_code == 422, events.text
    # Another address is not locked by this one.
    assert (
        await browser("10.9.8.7").get("/api/me/tasks", headers=bearer("cf_guess"))
    ).status_code == 401
    clock.advance(FIRST_LOCK)
    assert (await api.get("/api/me/tasks", headers=bearer("cf_guess"))).status_code == 401


async def test_a_burst_of_wrong_bearer_tokens_is_counted_one_by_one(browser, tokens):
    api = browser()
    guesses = [
        api.get("/api/me/tasks", headers=bearer("cf_guess")) for _ in range(3 * ADDRESS_LIMIT)
    ]
    answers = await asyncio.gather(*guesses)
    assert [r.status_code for r in answers].count(401) == ADDRESS_LIMIT
    refused = [r for r in answers if r.status_code == 429]
    assert len(refused) == 2 * ADDRESS_LIMIT
    # Refusals are not counted: the lock is the first one, not doubled by the burst.
    assert {r.headers["retry-after"] for r in refused} == {str(FIRST_LOCK)}
    valid = [api.get("/api/me/tasks", headers=bearer(tokens["lee"])) for _ in range(5)]
    assert [r.status_code for r in await asyncio.gather(*valid)] == [200] * 5


def test_the_throttle_keeps_a_bounded_number_of_keys_and_forgets_old_failures():
    from web.throttle import FORGET_AFTER, Throttle

    throttle = Throttle(max_keys=100)
    for i in range(1_000):
        throttle.failed([("name", f"n{i}"), ("address", "192.0.2.1")], T0)
    assert len(throttle) == 100
    assert throttle.retry_after([("address", "192.0.2.1")], T0) > 0, "kept: failed most recently"
    throttle.failed([("name", "late")], T0 + FORGET_AFTER + 1)
    assert len(throttle) == 1


# --- audit -------------------------------------------------------------------------------------


async def test_sign_ins_failures_and_token_issues_are_audited_without_the_token(
    browser, tokens, sessions, database_url, tmp_path, capsys, caplog
):
    caplog.set_level(logging.INFO)
    await signed_in(browser, tokens, "lee")
    assert (await post_login(browser(), "lee", "cf_wrong-guess")).status_code == 401
    assert (await post_login(browser(), "nobody", tokens["lee"])).status_code == 401
    settings = Settings(data_dir=tmp_path, database_url=database_url)
    assert await users_token(settings, "a-17", as_json=True) == 0
    issued = json.loads(capsys.readouterr().out)["token"]

    entries = [
        (e.actor, e.action, e.target, e.details.get("address"))
        for e in await _audit(sessions)
        if e.action.startswith("user.")
    ]
    assert entries == [
        ("lee", "user.login", "user:lee", "127.0.0.1"),
        ("lee", "user.login_failed", "user:lee", "127.0.0.1"),
        ("-", "user.login_failed", "user:-", "127.0.0.1"),
        ("cli", "user.token_issued", "user:a-17", None),
    ]
    logged = caplog.text
    assert "user.login: 'lee' from 127.0.0.1" in logged
    assert "user.login_failed: '-' from 127.0.0.1" in logged and "nobody" not in logged
    stored = json.dumps([(e.actor, e.target, e.details) for e in await _audit(sessions)])
    for secret in (tokens["lee"], "cf_wrong-guess", issued):
        assert secret not in stored and secret not in logged


async def test_a_name_no_database_would_store_is_audited_as_a_plain_failure(browser, sessions):
    sent = "lee\x00" + "x" * 300
    assert (await post_login(browser(), sent, "cf_guess")).status_code == 401
    (entry,) = await _audit(sessions)
    assert (entry.action, entry.actor) == ("user.login_failed", "-")


# --- the key that signs sessions ------------------------------------------------------------


class KeyClock:
    """time.monotonic and time.sleep for `secret_key`: sleeping moves this clock on, nothing
    waits; `on_sleep` runs at each sleep (another process, writing)."""

    def __init__(self, on_sleep=lambda: None) -> None:
        self.now, self.sleeps, self.on_sleep = 0.0, 0, on_sleep

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1
        self.on_sleep()


def test_a_key_file_still_being_written_is_waited_for_never_read_empty(tmp_path):
    settings = Settings(data_dir=tmp_path)
    settings.secret_key_file.write_text("")  # another process has created it, not yet written
    written = "w" * MIN_KEY_LENGTH
    time = KeyClock(on_sleep=lambda: settings.secret_key_file.write_text(written))
    assert secret_key(settings, sleep=time.sleep, clock=time.clock) == written
    assert time.sleeps == 1


def test_a_key_file_left_empty_or_short_is_refused_naming_the_settings(tmp_path):
    settings = Settings(data_dir=tmp_path)
    short = "s" * (MIN_KEY_LENGTH - 1)
    for stored in ("", short):
        settings.secret_key_file.write_text(stored)
        time = KeyClock()
        with pytest.raises(SystemExit) as refused:
            secret_key(settings, sleep=time.sleep, clock=time.clock)
        message = str(refused.value)
        assert "COACHFLOW_DATA_DIR" in message and "COACHFLOW_SECRET_KEY" in message
        assert short not in message and str(tmp_path) not in message
        assert (
            time.now >= KEY_WAIT_SECONDS and time.sleeps > KEY_WAIT_SECONDS / KEY_POLL_SECONDS - 2
        )
    assert settings.secret_key_file.read_text() == short, "a key it did not make is left alone"


def test_a_set_key_shorter_than_32_is_refused_without_showing_it(tmp_path):
    for short in ("", "k" * (MIN_KEY_LENGTH - 1)):
        with pytest.raises(SystemExit) as refused:
            secret_key(Settings(data_dir=tmp_path, secret_key=short))
        assert "COACHFLOW_SECRET_KEY" in str(refused.value) and "32" in str(refused.value)
        assert not short or short not in str(refused.value)
    assert not Settings(data_dir=tmp_path).secret_key_file.exists(), "no key file made"
    long_enough = "k" * MIN_KEY_LENGTH
    assert secret_key(Settings(data_dir=tmp_path, secret_key=long_enough)) == long_enough


def test_a_key_that_fails_to_be_written_leaves_no_empty_file(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path)

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("web.serve.os.fsync", full)
    with pytest.raises(OSError, match="No space"):
        secret_key(settings)
    assert not settings.secret_key_file.exists()
    monkeypatch.undo()
    key = secret_key(settings)
    assert len(key) >= MIN_KEY_LENGTH and settings.secret_key_file.read_text() == key


# --- login CSRF --------------------------------------------------------------------------------


async def test_a_sign_in_posted_from_another_site_is_refused(browser, tokens, clock):
    credentials = {"name": "lee", "token": tokens["lee"]}
    # A page elsewhere posts the form: the victim's browser has no sign-in cookie to send.
    forged = await browser().post(
        "/login", data=credentials, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403 and "csrf" in forged.text
    assert SESSION_COOKIE not in forged.headers.get("set-cookie", "")
    # Nor does a form token the attacker fetched for their own cookie pass with the victim's.
    attacker, victim = browser(), browser()
    stolen = await login_form_token(attacker)
    await login_form_token(victim)
    mixed = await victim.post("/login", data={**credentials, "csrf": stolen})
    assert mixed.status_code == 403
    # A browser says when a post comes from another site, whatever it carries.
    client = browser()
    pair = {**credentials, "csrf": await login_form_token(client)}
    cross = await client.post("/login", data=pair, headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403
    # The form lasts an hour; after that it is refused, with a fresh form to sign in again.
    clock.advance(HOUR)
    expired = await client.post("/login", data=pair)
    assert expired.status_code == 403 and "expired" in expired.text
    again = {**credentials, "csrf": FORM_CSRF.search(expired.text).group(1)}
    assert (await client.post("/login", data=again)).status_code == 303

    normal = browser()
    signed = await post_login(normal, "lee", tokens["lee"], next="/dashboard")
    assert signed.status_code == 303 and signed.headers["location"] == "/dashboard"
    assert await opens(normal, "/dashboard")
