"""Survey templates: the bundled ones are valid and cross-checked; each mistake is located."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from domain.definitions import SurveyTemplate
from opportunities.catalog import load_catalog
from tests.definition_files import Folders, catalog_problems, copy_definitions, edit, line_of

Defs = tuple[Path, Path, Path]


@pytest.fixture
def defs(tmp_path: Path) -> Folders:
    return copy_definitions(tmp_path)


def _assert_located(problems: list[str], path: Path, marker: str, message: str) -> None:
    expected = f"{path}:{line_of(path, marker)}:"
    assert any(p.startswith(expected) and message in p for p in problems), problems


def test_bundled_surveys_are_valid_and_referenced():
    catalog = load_catalog()
    assert catalog.problems == []
    assert set(catalog.surveys) == {"coach-rates-trainee", "trainee-rates-coaching"}
    coach = catalog.surveys["coach-rates-trainee"]
    trainee = catalog.surveys["trainee-rates-coaching"]
    assert coach.audience == "coach"
    assert trainee.audience == "trainee"
    assert [q.id for q in coach.questions] == ["competence", "applied_coaching", "comments"]
    assert [q.id for q in trainee.questions] == ["usefulness", "fairness", "comments"]
    for opportunity in catalog.opportunities.values():
        assert catalog.surveys[opportunity.surveys.coach].audience == "coach"
        assert catalog.surveys[opportunity.surveys.trainee].audience == "trainee"
    assert catalog.opportunities["low-csat"].review.expires.days == 14


def test_the_copied_folders_load_cleanly(defs):
    assert catalog_problems(defs) == []


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        ("expires: 7d", "expires: 7d\nanonymous: true", "anonymous:", "anonymous: unknown key"),
        (
            '    kind: scale\n    min: 1\n    max: 5\n    labels: {low: "Not yet"',
            '    kind: stars\n    min: 1\n    max: 5\n    labels: {low: "Not yet"',
            "kind: stars",
            "questions[0].kind: Input tag 'stars' found using 'kind' does not match",
        ),
        (
            '    min: 1\n    max: 5\n    labels: {low: "Not yet"',
            '    min: 5\n    max: 5\n    labels: {low: "Not yet"',
            "id: competence",
            "questions[0]: a scale needs `min` smaller than `max`",
        ),
        (
            "    kind: text\n    max_length: 2000",
            "    kind: choice",
            "- id: comments",
            "questions[2].options: required field is missing",
        ),
        (
            "    kind: text\n    max_length: 2000",
            "    kind: choice\n    options: []",
            "options: []",
            "questions[2].options:",
        ),
        (
            "    kind: text\n    max_length: 2000",
            "    kind: choice\n    options: [yes, no, yes]",
            "options: [yes, no, yes]",
            "questions[2].options: an option appears twice",
        ),
        (
            "    kind: text\n    max_length: 2000",
            "    kind: text\n    max_length: 20000",
            "max_length: 20000",
            "questions[2].max_length:",
        ),
        (
            "- id: comments",
            "- id: competence  # again",
            "# again",
            "questions[2].id: question id 'competence' appears twice",
        ),
        ("expires: 7d", "expires: a week", "expires:", "expires: bad duration"),
        ("expires: 7d", "expires: 7", "expires:", "expires: a duration needs a unit"),
        ("audience: coach", "audience: lead", "audience:", "audience:"),
        (
            "id: coach-rates-trainee",
            "id: coach-rates-agent",
            "id:",
            "file name must be the survey id",
        ),
        ("questions:", "questions: []\nx:", "questions:", "questions:"),
        ("version: 1", "version: 1\nversion: 2", "version: 2", "duplicate key 'version'"),
    ],
)
def test_survey_mistakes_are_reported_with_path_and_line(defs, old, new, marker, message):
    path = defs[2] / "coach-rates-trainee.yaml"
    edit(path, old, new)
    _assert_located(catalog_problems(defs), path, marker, message)


def test_a_survey_defined_twice_is_reported(defs):
    shutil.copy(defs[2] / "coach-rates-trainee.yaml", defs[2] / "coach-rates-trainee.yml")
    problems = catalog_problems(defs)
    assert any(
        p.startswith(f"{defs[2] / 'coach-rates-trainee.yml'}:1:")
        and "survey 'coach-rates-trainee' is defined twice" in p
        for p in problems
    ), problems


def test_a_missing_surveys_folder_is_reported(defs, tmp_path):
    problems = catalog_problems((defs[0], defs[1], tmp_path / "nowhere"))
    assert any("the surveys folder does not exist" in p for p in problems), problems


def test_an_opportunity_naming_an_unknown_survey_is_reported(defs):
    path = defs[0] / "low-csat.yaml"
    edit(path, "coach: coach-rates-trainee", "coach: coach-rates-agent")
    problems = catalog_problems(defs)
    _assert_located(problems, path, "surveys:", "surveys.coach: unknown survey 'coach-rates-agent'")
    assert "low-csat" not in load_catalog(*defs).opportunities


def test_an_opportunity_naming_a_survey_of_the_wrong_audience_is_reported(defs):
    path = defs[0] / "first-response.yaml"
    edit(path, "trainee: trainee-rates-coaching", "trainee: coach-rates-trainee")
    _assert_located(
        catalog_problems(defs),
        path,
        "surveys:",
        "surveys.trainee: survey 'coach-rates-trainee' is for the coach, not the trainee",
    )


def test_the_survey_key_is_located_on_its_own_line(defs):
    path = defs[0] / "escalation.yaml"
    edit(
        path,
        "surveys: {coach: coach-rates-trainee, trainee: trainee-rates-coaching}",
        "surveys:\n  coach: trainee-rates-coaching\n  trainee: trainee-rates-coaching",
    )
    _assert_located(
        catalog_problems(defs),
        path,
        "coach: trainee-rates-coaching",
        "surveys.coach: survey 'trainee-rates-coaching' is for the trainee, not the coach",
    )


def test_review_expires_must_be_after_due(defs):
    path = defs[0] / "first-response.yaml"
    edit(path, "due: 3d, escalate_to", "due: 3d, expires: 2d, escalate_to")
    _assert_located(catalog_problems(defs), path, "review:", "review: `expires`")
    edit(path, "expires: 2d", "expires: 3d")
    _assert_located(catalog_problems(defs), path, "review:", "must be after `due`")
    edit(path, "expires: 3d", "expires: 10d")
    assert catalog_problems(defs) == []
    assert load_catalog(*defs).opportunities["first-response"].review.expires.days == 10


def test_review_expires_bad_duration_is_located(defs):
    path = defs[0] / "first-response.yaml"
    edit(path, "due: 3d, escalate_to", "due: 3d, expires: later, escalate_to")
    _assert_located(catalog_problems(defs), path, "review:", "review.expires: bad duration")


SECRET = "jane.doe@example.com 555-0100"


@pytest.fixture(scope="module")
def survey() -> SurveyTemplate:
    return SurveyTemplate.model_validate(
        {
            "id": "check-in",
            "name": "Check-in",
            "version": 1,
            "audience": "trainee",
            "questions": [
                {"id": "score", "text": "How useful?", "kind": "scale", "min": 1, "max": 5},
                {
                    "id": "notes",
                    "text": "Notes?",
                    "kind": "text",
                    "max_length": 10,
                    "required": False,
                },
                {"id": "again", "text": "Again?", "kind": "choice", "options": ["yes", "no"]},
            ],
        }
    )


def test_valid_answers_have_no_problems(survey):
    assert survey.answer_problems({"score": 4, "notes": "short", "again": "yes"}) == []
    assert survey.answer_problems({"score": 1, "again": "no"}) == []
    assert survey.answer_problems({"score": 5, "notes": None, "again": "no"}) == []
    assert survey.answer_problems({"score": 5, "notes": "", "again": "no"}) == []


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({"notes": "x", "again": "yes"}, "answers.score: an answer is required"),
        ({"score": None, "again": "yes"}, "answers.score: an answer is required"),
        ({"score": 3}, "answers.again: an answer is required"),
        ({"score": 3, "again": "   "}, "answers.again: an answer is required"),
        ({"score": 0, "again": "yes"}, "answers.score: must be from 1 to 5"),
        ({"score": 6, "again": "yes"}, "answers.score: must be from 1 to 5"),
        ({"score": 3.5, "again": "yes"}, "answers.score: must be a whole number from 1 to 5"),
        ({"score": "4", "again": "yes"}, "answers.score: must be a whole number from 1 to 5"),
        ({"score": True, "again": "yes"}, "answers.score: must be a whole number from 1 to 5"),
        ({"score": 3, "again": "yes", "notes": 12}, "answers.notes: must be text"),
        (
            {"score": 3, "again": "yes", "notes": "x" * 11},
            "answers.notes: is longer than 10 characters",
        ),
        ({"score": 3, "again": "maybe"}, "answers.again: must be one of: yes, no"),
        ({"score": 3, "again": 1}, "answers.again: must be one of: yes, no"),
        ({"score": 3, "again": "yes", "mood": 3}, "answers.mood: unknown question"),
        (
            {"score": 3, "again": "yes", "Mood!": 3},
            "answers: an answer names something that is not a question id",
        ),
    ],
)
def test_each_answer_problem_is_named_by_question(survey, answers, problem):
    assert survey.answer_problems(answers) == [problem]


def test_answer_values_never_appear_in_problems(survey):
    answers = {
        "score": SECRET,
        "notes": SECRET * 3,
        "again": SECRET,
        SECRET: SECRET,
    }
    problems = survey.answer_problems(answers)
    assert len(problems) == 4
    for problem in problems:
        assert "jane" not in problem
        assert "555" not in problem
    assert survey.answer_problems({"score": 987654, "again": "yes"}) == [
        "answers.score: must be from 1 to 5"
    ]


def test_answers_must_be_a_mapping(survey):
    assert survey.answer_problems(["yes"]) == ["answers: must map question ids to answers"]  # type: ignore[arg-type]
