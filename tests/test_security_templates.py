"""A rubric's note templates cannot run code or read files: they render sandboxed, must be
template files inside the rubrics folder (after symlinks), and are tried when the rubric is
checked. Refusals name the field, never where the folder is on the server."""

from __future__ import annotations

import dataclasses
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from opportunities.catalog import load_catalog
from opportunities.editor import Folders as EditorFolders
from opportunities.live import LiveCatalog, fingerprint
from rubrics.notes import TEMPLATE_FAILED, render_notes
from tests.app_support import http_client
from tests.definition_files import Folders, catalog_problems, copy_definitions, edit, line_of
from tests.drafting import draft_event
from tests.factories import event_dict, make_event
from tests.helpers import assessment_of, bearer, until_drafted

RUN_ID = "{{ cycler.__init__.__globals__.os.popen('id').read() }}"
# The same, past a check that only reads the template: the name is built while rendering.
RUN_ID_BUILT = "{% set u = '_' * 2 %}{{ cycler | attr(u ~ 'init' ~ u) }}"
YAML = {"Content-Type": "text/yaml"}


@pytest.fixture
def defs(tmp_path: Path) -> Folders:
    return copy_definitions(tmp_path)


def _use_template(defs: Folders, relative: str) -> Path:
    rubric = defs[1] / "support-core.yaml"
    edit(rubric, "criteria:", f"templates: {{coaching_note: '{relative}'}}\ncriteria:")
    return rubric


def _support_core(catalog) -> list:
    return [r for r in catalog.rubrics.values() if r.id == "support-core"]


def _refused(defs: Folders, relative: str) -> str:
    """The one problem of the rubric naming `relative`; the rubric is not loaded."""
    rubric = _use_template(defs, relative)
    catalog = load_catalog(*defs)
    assert not _support_core(catalog)
    line = line_of(rubric, "templates:")
    (problem,) = [str(p) for p in catalog.problems if str(p).startswith(f"{rubric}:{line}:")]
    message = problem.split(": ", 1)[1]
    for folder in (defs[1], defs[1].resolve()):
        assert str(folder) not in message, problem
    return message


@pytest.mark.parametrize("relative", ["../../../../../../../etc/hostname", "/etc/hostname"])
def test_a_template_path_out_of_the_folder_is_refused(defs, relative):
    message = _refused(defs, relative)
    assert message == f"templates.coaching_note: {relative!r} is outside the rubrics folder"


def test_a_symlink_out_of_the_folder_is_refused(defs, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.md.j2").write_text("SECRET {{ trainee_name }}\n")
    (defs[1] / "notes").mkdir()
    (defs[1] / "notes" / "note.md.j2").symlink_to(outside / "secret.md.j2")
    assert _refused(defs, "notes/note.md.j2").endswith("is outside the rubrics folder")
    sources = [r.template_sources for r in load_catalog(*defs).rubrics.values()]
    assert not any("SECRET" in s for t in sources for s in t.values())


def test_a_symlink_inside_the_folder_is_followed(defs):
    (defs[1] / "shared").mkdir()
    (defs[1] / "shared" / "note.md.j2").write_text("Shared note for {{ trainee_name }}\n")
    (defs[1] / "note.md.j2").symlink_to(defs[1] / "shared" / "note.md.j2")
    _use_template(defs, "note.md.j2")
    catalog = load_catalog(*defs)
    assert catalog.problems == []
    (rubric,) = _support_core(catalog)
    assert rubric.template_sources["coaching_note"].startswith("Shared")


@pytest.mark.parametrize("link", [False, True], ids=["the file", "a template name for it"])
def test_a_definition_file_is_not_a_template(defs, link):
    relative = "support-core.yaml"
    if link:
        relative = "other.md.j2"
        (defs[1] / relative).symlink_to(defs[1] / "support-core.yaml")
    message = _refused(defs, relative)
    assert message.endswith("is not a template file (.j2, .jinja, .jinja2)"), message


def test_a_missing_template_names_the_field_and_the_path_as_written_only(defs):
    message = _refused(defs, "notes/none.md.j2")
    assert message == "templates.coaching_note: no file 'notes/none.md.j2' in the rubrics folder"


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        (
            f"Note\n\n{RUN_ID}\n",
            3,
            "template error: a template may not use an attribute whose name starts with _",
        ),
        ("{{ x['__class__'] }}", 1, "may not use an attribute whose name starts with _"),
        ("{{ cycler | attr('__init__') }}", 1, "may not use an attribute whose name starts"),
        (f"Note\n{RUN_ID_BUILT}\n", 2, "on a sample draft: access to attribute '__init__'"),
        ("Note\n{{ no_such_name }}\n", 2, "on a sample draft: 'no_such_name' is undefined"),
        ("Note\n{{ 2 ** 100000 }}\n", 2, "on a sample draft: an exponent above 64"),
        ("Note\n{{ 'x' * 100000 * 100000 }}\n", 2, "a repeated value longer than 100,000"),
    ],
    ids=[
        "dunder attribute",
        "dunder item",
        "attr filter",
        "name built at render",
        "undefined",
        "huge power",
        "huge repetition",
    ],
)
def test_a_template_the_sandbox_would_refuse_is_refused_when_checked(defs, source, line, message):
    (defs[1] / "notes").mkdir()
    template = defs[1] / "notes" / "note.md.j2"
    template.write_text(source)
    _use_template(defs, "notes/note.md.j2")
    problems = catalog_problems(defs)
    assert any(p.startswith(f"{template}:{line}: ") and message in p for p in problems), problems


def _drafted():
    catalog = load_catalog()
    opportunity = catalog.opportunities["low-csat"]
    return catalog, opportunity, draft_event(make_event(), catalog)


@pytest.mark.parametrize("name", ["coaching_note", "qa_summary"])
def test_a_pinned_template_that_runs_code_renders_the_default_note_flagged(name):
    """A workflow started before templates were checked carries its rubric's template in its
    input: rendering it is refused by the sandbox, and the default note takes its place."""
    catalog, opportunity, drafted = _drafted()
    rubric = catalog.rubric_for(opportunity)
    hostile = rubric.model_copy(update={"template_sources": {name: RUN_ID}})
    rendered = render_notes(drafted, hostile, opportunity, "generic/35436", "csat.received")
    assert "uid=" not in rendered.coaching_note + rendered.qa_summary
    assert (rendered.coaching_note, rendered.qa_summary) == (
        drafted.coaching_note,
        drafted.qa_summary,
    )
    assert rendered.flags.count(TEMPLATE_FAILED) == 1
    again = render_notes(rendered, hostile, opportunity, "generic/35436", "csat.received")
    assert again.flags.count(TEMPLATE_FAILED) == 1


def test_a_note_is_plain_text_not_html_escaped():
    catalog, opportunity, drafted = _drafted()
    rubric = catalog.rubric_for(opportunity).model_copy(
        update={"template_sources": {"coaching_note": "{{ '<b> & \"x\"' }} {{ trainee_name }}"}}
    )
    rendered = render_notes(drafted, rubric, opportunity, "generic/35436", "csat.received")
    assert rendered.coaching_note == '<b> & "x" Dana Ruiz\n'
    assert TEMPLATE_FAILED not in rendered.flags


# --- through the admin API and a running worker --------------------------------------------------


def _probe(folders: Folders, version: int, name: str = "Probe", templates: str = "") -> str:
    """A draft rubric `notes-probe` with support-core's criteria."""
    text = (folders[1] / "support-core.yaml").read_text()
    text = text.replace("id: support-core", "id: notes-probe", 1)
    text = text.replace("name: Support core", f"name: {name}", 1)
    text = re.sub(r"^version: \d+$", f"version: {version}", text, count=1, flags=re.M)
    text = re.sub(r"^status: approved\napproved_by: .*\n", "status: draft\n", text, flags=re.M)
    if templates:
        text = text.replace("criteria:\n", f"templates: {templates}\ncriteria:\n", 1)
    return text


async def _put(api, ref: str, text: str, token: str) -> httpx.Response:
    return await api.put(
        f"/api/admin/definitions/rubrics/{ref}",
        content=text.encode(),
        headers={**YAML, **bearer(token)},
    )


def _problems(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    return [
        f"{p['path']}:{p['line']}: {p['message']}" for p in response.json()["detail"]["problems"]
    ]


async def test_the_probe_chain_through_the_admin_api_is_refused(api, tokens, folders):
    """The probe: a draft rubric whose file is a template that runs `id`, then a version whose
    note template is that file, then its approval. The second upload is refused; so is a
    template file on the server that holds the same code, directly or built while rendering."""
    ada = tokens["ada"]
    carrier = _probe(folders, 1, name=f'"{RUN_ID}"')
    stored = await _put(api, "notes-probe@1", carrier, ada)
    assert stored.status_code == 200, stored.text

    pointing = _probe(folders, 2, templates="{coaching_note: notes-probe@1.yaml}")
    (problem,) = _problems(await _put(api, "notes-probe@2", pointing, ada))
    assert "templates.coaching_note: 'notes-probe@1.yaml' is not a template file" in problem
    assert "uid=" not in problem and str(folders[1].resolve()) not in problem.split(": ", 1)[1]
    approve = await api.post("/api/admin/rubrics/notes-probe@2/approve", headers=bearer(ada))
    assert approve.status_code == 404
    assert not (folders[1] / "notes-probe@2.yaml").exists()

    (folders[1] / "notes").mkdir()
    for source in (RUN_ID, RUN_ID_BUILT):
        (folders[1] / "notes" / "probe.md.j2").write_text(source + "\n")
        templated = _probe(folders, 2, templates="{coaching_note: notes/probe.md.j2}")
        (problem,) = _problems(await _put(api, "notes-probe@2", templated, ada))
        assert "notes/probe.md.j2:1: template error: " in problem and "uid=" not in problem
    assert not (folders[1] / "notes-probe@2.yaml").exists()


@pytest.fixture
async def pinned_api(web_settings, dev_client, worker, sessions, task_queue) -> AsyncIterator:
    """An app whose loaded rubrics carry a template that runs `id`, as the input of a workflow
    started before templates were checked carries it."""
    from web.app import create_app
    from web.context import WebContext

    catalog = load_catalog()
    hostile = {
        ref: r.model_copy(update={"template_sources": {"coaching_note": RUN_ID}})
        for ref, r in catalog.rubrics.items()
    }
    app = create_app(
        WebContext(
            settings=web_settings,
            client=dev_client,
            sessions=sessions,
            definitions=dataclasses.replace(catalog, rubrics=hostile),
            task_queue=task_queue,
            secret_key=web_settings.secret_key,
        )
    )
    async with http_client(app) as client:
        yield client


async def test_a_pinned_template_that_runs_code_does_not_reach_the_note(
    pinned_api, tokens, dev_client, sessions
):
    ticket = f"t{uuid.uuid4().hex[:12]}"
    event = event_dict(**{"event_id": f"evt-{ticket}", "ticket.id": ticket})
    response = await pinned_api.post("/events", json=event, headers=bearer(tokens["ada"]))
    assert response.status_code == 202, response.text
    (workflow_id,) = response.json()["started"]
    state = await until_drafted(dev_client, workflow_id)
    assert state.status == "awaiting_review"
    row = await assessment_of(sessions, workflow_id)
    assert "uid=" not in row.coaching_note and "uid=" not in row.qa_summary
    assert row.coaching_note.startswith("Coaching note for Dana Ruiz")
    assert TEMPLATE_FAILED in row.flags


def test_a_symlinked_folder_in_the_rubrics_folder_is_not_walked(tmp_path):
    """A link back to the folder itself (or to `/`) would have the live catalog walk it over
    and over, every second; a template behind a link is counted where it is, or is outside
    the folder and refused."""
    opportunities, rubrics, surveys = copy_definitions(tmp_path)
    (rubrics / "loop").symlink_to(rubrics, target_is_directory=True)
    folders = EditorFolders(opportunities, rubrics, surveys)
    names = {name for kind, name, *_ in fingerprint(folders) if kind == "rubrics"}
    assert names == {p.name for p in rubrics.iterdir() if p.is_file()}
    live = LiveCatalog.load(folders, interval=0)
    assert live.current().problems == []
