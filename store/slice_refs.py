"""The KB article and policy that an assessment and its measurement events are sliced by."""

from __future__ import annotations

from domain.assessment import Draft, ProcessIssue

REF_CAUSES = {"kb_article": "documentation", "policy": "policy"}
LINKED = {"kb_article": "kb_articles", "policy": "policies"}


def issue_refs(issue: ProcessIssue) -> dict[str, str | None]:
    return {name: issue.ref for name, cause in REF_CAUSES.items() if issue.cause == cause}


def slice_refs(draft: Draft, snapshot: dict) -> dict[str, str | None]:
    """The KB article and policy an assessment is sliced by: those its documentation or
    policy process issue names, else the first the ticket links."""
    refs: dict[str, str | None] = {}
    for name, cause in REF_CAUSES.items():
        named = [i.ref for i in draft.process_issues if i.cause == cause and i.ref]
        linked = [item.get("id") for item in snapshot.get(LINKED[name]) or []]
        refs[name] = next(iter(named + linked), None)
    return refs
