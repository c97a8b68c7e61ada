"""docker-compose.yml, the Dockerfile and .env.example agree with what the app reads and ships.

No Docker engine runs where these tests run, so they read the files: every variable the
application's code reads is set for every service built from the Dockerfile, and the image
installs every package and data file of the project.
"""

from __future__ import annotations

import ast
import re
import shlex
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from service.settings import DEFAULT_MAX_CACHED_WORKFLOWS, Settings
from service.temporal import connect_options
from service.worker import worker_options

ROOT = Path(__file__).resolve().parent.parent
OUR_VARIABLE = re.compile(r"(COACHFLOW|TEMPORAL)_[A-Z0-9_]+")
REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
# Not part of the application: neither installed nor run in the image.
NOT_THE_APP = {"tests", "bench"}
# Sample data for `starter.py ingest`; no code reads it, so the image need not carry it.
NOT_SHIPPED = {"examples/demo-events.jsonl"}


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def _app_sources() -> list[Path]:
    setup = _pyproject()
    files = [ROOT / f"{module}.py" for module in setup["py-modules"]]
    for package in setup["packages"]:
        files += sorted((ROOT / package.replace(".", "/")).glob("*.py"))
    return files


def _variables_read(source: str) -> set[str]:
    """Our variable names passed to any call (`_env`, `os.environ.get`, a settings helper...)
    or used as a key of `os.environ`."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args:
            candidates = [node.args[0]]
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            candidates = [node.slice]
        else:
            continue
        names |= {
            arg.value
            for arg in candidates
            if isinstance(arg, ast.Constant)
            and isinstance(arg.value, str)
            and OUR_VARIABLE.fullmatch(arg.value)
        }
    return names


def app_variables() -> set[str]:
    names: set[str] = set()
    for path in _app_sources():
        names |= _variables_read(path.read_text())
    return names


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _app_services(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if "build" in s}


def _command(service: dict) -> str:
    command = service.get("command", "")
    return shlex.join(command) if isinstance(command, list) else command


def test_the_scan_finds_the_variables_read_in_settings_and_elsewhere():
    found = app_variables()
    # Read by Settings, by the Temporal connection settings, the worker's knobs, and the
    # language-model client, which reads os.environ itself.
    for name in (
        "COACHFLOW_DATABASE_URL",
        "TEMPORAL_ADDRESS",
        "TEMPORAL_API_KEY",
        "TEMPORAL_TLS_CLIENT_CERT_PATH",
        "COACHFLOW_WORKER_MAX_CACHED_WORKFLOWS",
        "COACHFLOW_LLM_BASE_URL",
    ):
        assert name in found
    assert _variables_read('os.environ["TEMPORAL_X"]; os.getenv("COACHFLOW_Y", "1")') == {
        "TEMPORAL_X",
        "COACHFLOW_Y",
    }
    assert _variables_read('print("COACHFLOW_Z: is a message", "TEMPORAL_W")') == set()


def test_the_stack_has_its_services(compose):
    services = compose["services"]
    for name in ("postgres", "temporal", "temporal-ui", "migrate", "web"):
        assert name in services, name
    workers = [s for s in services.values() if "worker.py" in _command(s)]
    assert sum(s.get("deploy", {}).get("replicas", 1) for s in workers) >= 2
    assert set(_app_services(compose)) == {"migrate", "web"} | {
        name for name, s in services.items() if s in workers
    }


def test_every_variable_the_app_reads_is_set_for_every_app_service(compose):
    wanted = app_variables()
    for name, service in _app_services(compose).items():
        environment = service["environment"]
        assert isinstance(environment, dict), f"{name}: environment as a mapping"
        missing = wanted - set(environment)
        assert not missing, f"{name}: not set in docker-compose.yml: {sorted(missing)}"
        unknown = {v for v in environment if OUR_VARIABLE.fullmatch(v)} - wanted
        assert not unknown, f"{name}: the app reads no {sorted(unknown)}"
        for variable, value in environment.items():
            assert str(value).startswith(f"${{{variable}"), (
                f"{name}: {variable} should come from the environment as ${{{variable}...}}"
            )


def test_every_compose_variable_is_documented_in_env_example(compose):
    used = set(REFERENCE.findall((ROOT / "docker-compose.yml").read_text()))
    documented = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert used - documented == set(), "used in docker-compose.yml, missing in .env.example"
    assert documented - used == set(), "in .env.example, unused by docker-compose.yml"


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's `${NAME}`, `${NAME:-default}`, `${NAME:?error}` (nested) and `$$`."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            depth, j = 1, i + 2
            while depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            name, op, rest = re.fullmatch(
                r"([A-Za-z_]\w*)(:-|:\?)?(.*)", text[i + 2 : j - 1], re.S
            ).groups()
            value = env.get(name, "")
            if not value and op == ":-":
                value = interpolate(rest, env)
            elif not value and op == ":?":
                raise LookupError(f"{name}: {interpolate(rest, env)}")
            out.append(value)
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def test_the_defaults_make_valid_settings(compose, monkeypatch):
    given = {"POSTGRES_PASSWORD": "pw", "COACHFLOW_SECRET_KEY": "k" * 40}
    with pytest.raises(LookupError, match="POSTGRES_PASSWORD"):
        interpolate(compose["services"]["migrate"]["environment"]["COACHFLOW_DATABASE_URL"], {})
    for name, service in _app_services(compose).items():
        environment = {k: interpolate(str(v), given) for k, v in service["environment"].items()}
        assert environment["COACHFLOW_DATABASE_URL"] == (
            "postgresql://coachflow:pw@postgres:5432/coachflow"
        ), name
        assert environment["TEMPORAL_ADDRESS"] == "temporal:7233"
        for variable, value in environment.items():
            monkeypatch.setenv(variable, value)
        settings = Settings()
        assert connect_options(settings) == {}
        assert worker_options(settings) == {
            "graceful_shutdown_timeout": timedelta(seconds=30),
            "max_cached_workflows": DEFAULT_MAX_CACHED_WORKFLOWS,
        }


def test_postgres_temporal_and_the_ui_are_wired(compose):
    services = compose["services"]
    postgres = services["postgres"]
    assert postgres["healthcheck"]["test"]
    volume = postgres["volumes"][0].split(":")[0]
    assert volume in compose["volumes"]

    temporal = services["temporal"]
    assert temporal["image"].split(":-")[-1].startswith("temporalio/auto-setup:")
    assert temporal["environment"]["DB"] == "postgres12"
    assert temporal["environment"]["POSTGRES_SEEDS"] == "postgres"
    assert temporal["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert temporal["healthcheck"]["test"]

    assert services["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_the_web_app_and_the_workers_share_definitions_the_image_seeds(compose):
    """An admin's change through the web app must reach the workers' QA samples, and outlive
    the containers: one named volume, mounted where the definition folders default to, and
    filled by Docker from the bundled files the image keeps at that path."""
    given = {"POSTGRES_PASSWORD": "pw", "COACHFLOW_SECRET_KEY": "k" * 40}
    seeded = {
        args.split()[-1].rstrip("/"): [a for a in args.split()[:-1] if not a.startswith("--")]
        for keyword, args in _stages()[-1]
        if keyword == "COPY" and not args.startswith("--from")
    }
    for name, service in _app_services(compose).items():
        mounts = dict(volume.split(":", 1) for volume in service.get("volumes", []))
        assert "definitions" in mounts, f"{name}: does not mount the definitions volume"
        assert "definitions" in compose["volumes"]
        for kind in ("opportunities", "rubrics", "surveys"):
            variable = f"COACHFLOW_{kind.upper()}_DIR"
            folder = interpolate(str(service["environment"][variable]), given)
            assert folder == f"{mounts['definitions']}/{kind}", f"{name}: {variable}"
            assert f"{kind}/*.yaml" in seeded.get(folder, []), f"the image does not fill {folder}"
            assert list((ROOT / kind).glob("*.yaml")), kind
    assert "rubrics/*.examples.jsonl" in seeded["/var/lib/coachflow/definitions/rubrics"]


def test_migrations_run_once_before_the_app_starts(compose):
    services = _app_services(compose)
    assert _command(services["migrate"]) == "python starter.py migrate"
    assert services["migrate"]["restart"] == "no"
    for name, service in services.items():
        if name == "migrate":
            continue
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["temporal"]["condition"] == "service_healthy"
    assert _command(services["web"]) == "python starter.py serve --host 0.0.0.0"


# The image


def _stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's instructions, (keyword, arguments), grouped by stage."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    stages: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.upper() == "FROM":
            stages.append([])
        stages[-1].append((keyword.upper(), rest.strip()))
    return stages


def test_the_image_is_slim_python_311_and_runs_as_a_user():
    stages = _stages()
    for stage in stages:
        assert stage[0][1].split()[0] == "python:3.11-slim"
    final = stages[-1]
    users = [args for keyword, args in final if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    runs = " ".join(args for keyword, args in final if keyword == "RUN")
    assert "pip install" in runs and "[dev]" not in runs


def test_the_image_installs_the_project_from_the_build_context():
    build = [s for s in _stages() if ("COPY", ". .") in s]
    assert build, "a stage copies the whole build context"
    runs = [args for keyword, args in build[0] if keyword == "RUN"]
    assert any(re.search(r"pip (wheel|install) .*\s\.$", run) for run in runs), runs


def test_the_image_holds_the_scripts_the_stack_runs(compose):
    final = _stages()[-1]
    copied = {
        name
        for keyword, args in final
        if keyword == "COPY" and not args.startswith("--from")
        for name in args.split()[:-1]
    }
    scripts = {
        word
        for service in _app_services(compose).values()
        for word in shlex.split(_command(service))
        if word.endswith(".py")
    }
    assert scripts and scripts <= copied


def _ignored(path: str, patterns: list[str]) -> bool:
    """As Docker reads .dockerignore: the last matching pattern wins, `!` re-includes, and a
    pattern that matches a folder excludes what is in it."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern.lstrip("!").strip("/")
        regex = re.escape(body)
        regex = regex.replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*")
        regex = regex.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            ignored = not negated
    return ignored


def test_ignore_rules_follow_docker():
    patterns = ["tests", "**/__pycache__", "*.egg-info", "!keep.egg-info"]
    assert _ignored("tests/test_x.py", patterns)
    assert _ignored("web/api/__pycache__/x.pyc", patterns)
    assert _ignored("__pycache__/x.pyc", patterns)
    assert _ignored("coachflow.egg-info/PKG-INFO", patterns)
    assert not _ignored("keep.egg-info/PKG-INFO", patterns)
    assert not _ignored("web/tests.py", patterns)


def _package_dirs() -> dict[Path, str]:
    return {ROOT / package.replace(".", "/"): package for package in _pyproject()["packages"]}


def _project_files() -> list[Path]:
    """Every file under a top-level package folder of the project."""
    tops = {
        path.parent for path in ROOT.glob("*/__init__.py") if path.parent.name not in NOT_THE_APP
    }
    return [
        path
        for top in sorted(tops)
        for path in top.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]


def test_every_package_and_data_file_is_installed():
    setup = _pyproject()
    packages = _package_dirs()
    shipped: set[Path] = set()
    for package, patterns in setup.get("package-data", {}).items():
        folders = packages if package in ("", "*") else [ROOT / package.replace(".", "/")]
        for folder in folders:
            for pattern in patterns:
                shipped |= set(folder.glob(pattern))
    for path in _project_files():
        where = path.relative_to(ROOT).as_posix()
        if path.suffix == ".py":
            assert path.parent in packages, f"{where}: its folder is not in pyproject's packages"
        elif where not in NOT_SHIPPED:
            assert path in shipped, f"{where}: not in pyproject's package-data"


def test_the_build_context_holds_everything_the_image_installs():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    needed = ["pyproject.toml", "README.md"]
    needed += [f"{module}.py" for module in _pyproject()["py-modules"]]
    needed += [p.relative_to(ROOT).as_posix() for p in _project_files()]
    left_out = [path for path in needed if _ignored(path, patterns)]
    assert not left_out, f".dockerignore leaves out {left_out}"
