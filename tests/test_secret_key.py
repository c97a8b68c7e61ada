"""The key that signs page sessions: never empty, never short, created private in one step."""

from __future__ import annotations

import stat
import threading

import pytest

from service.settings import Settings
from web.serve import MIN_KEY_LENGTH, secret_key


def test_a_new_key_is_written_private_and_read_back_the_same(tmp_path):
    settings = Settings(data_dir=tmp_path)
    key = secret_key(settings)
    assert len(key) >= MIN_KEY_LENGTH
    assert stat.S_IMODE(settings.secret_key_file.stat().st_mode) == 0o600
    assert secret_key(settings) == key


def test_processes_starting_together_agree_on_one_key(tmp_path):
    settings = Settings(data_dir=tmp_path)
    keys: list[str] = []
    threads = [threading.Thread(target=lambda: keys.append(secret_key(settings))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1 and len(keys[0]) >= MIN_KEY_LENGTH


def test_an_empty_or_short_key_is_refused_never_used(tmp_path, monkeypatch):
    settings = Settings(data_dir=tmp_path)
    settings.secret_key_file.write_text("")
    monkeypatch.setattr("web.serve.KEY_WAIT_SECONDS", 0.2)
    with pytest.raises(SystemExit, match="holds no key of 32 characters") as refused:
        secret_key(settings)
    assert str(tmp_path) not in str(refused.value)
    short = "k" * (MIN_KEY_LENGTH - 1)
    with pytest.raises(SystemExit, match="COACHFLOW_SECRET_KEY: must be at least 32") as refused:
        secret_key(Settings(data_dir=tmp_path, secret_key=short))
    assert short not in str(refused.value)
