"""`kb_reference`: the agent pointed to a help-centre article, and the article is current."""

from __future__ import annotations

from domain.assessment import MetricEvidence
from domain.definitions import KbReferenceCheck
from domain.events import KbArticle
from rubrics.case import Case
from rubrics.checks.base import Outcome
from rubrics.checks.lexicon import find_phrases


def _age_days(article: KbArticle, case: Case) -> float | None:
    now = case.occurred_at or case.ticket.solved_at
    if article.updated_at is None or now is None:
        return None
    return round((now - article.updated_at).total_seconds() / 86400, 1)


def _citations(article: KbArticle, case: Case) -> list:
    needles = tuple(n for n in (article.id, article.url, article.title) if n)
    return find_phrases(needles, case.messages("agent_public"), limit=1) if needles else []


def check_kb_reference(spec: KbReferenceCheck, case: Case) -> Outcome:
    articles = case.ticket.kb_articles
    if not articles:
        return Outcome(
            "failed",
            "no help-centre article was linked",
            [MetricEvidence(metric="kb_articles_linked", value=0, threshold=1, bound="min")],
            confidence=0.8,
        )
    evidence, stale, unknown = [], [], []
    for article in articles:
        age = _age_days(article, case)
        evidence += _citations(article, case)
        evidence.append(
            MetricEvidence(
                metric="kb_article_age_days",
                value=age,
                threshold=spec.max_age_days,
                bound="max",
                ref=article.id,
            )
        )
        if age is None:
            unknown.append(article.id)
        elif age > spec.max_age_days:
            stale.append(article.id)
    if stale:
        return Outcome(
            "failed",
            f"linked article {', '.join(stale)} is older than {spec.max_age_days} days",
            evidence,
        )
    if len(unknown) == len(articles):
        return Outcome("not_scored", "no linked article has an update date", evidence, 0.0)
    return Outcome("passed", "linked a current help-centre article", evidence)
