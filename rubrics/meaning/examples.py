"""Example sentences a rubric gives for a criterion: a sentence close to a passing example
counts as the act, one close to a failing example never does. Closeness is the cosine of the
two sentences' word and word-pair counts, after `sentences.normalise`."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from functools import lru_cache

from rubrics.meaning.sentences import normalise

CLOSE = 0.6
_WORD = re.compile(r"<link>|[a-z0-9']+")


@lru_cache(maxsize=8192)
def _bag(text: str) -> tuple[Counter[str], float]:
    words = _WORD.findall(text)
    bag = Counter(words) + Counter(f"{a} {b}" for a, b in itertools.pairwise(words))
    return bag, math.sqrt(sum(v * v for v in bag.values()))


def similarity(a: str, b: str) -> float:
    (left, ln), (right, rn) = _bag(a), _bag(b)
    if not ln or not rn:
        return 0.0
    return sum(v * right[k] for k, v in left.items() if k in right) / (ln * rn)


@lru_cache(maxsize=256)
def prepared(examples: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(normalise(e) for e in examples)


def close_to(text: str, examples: tuple[str, ...]) -> bool:
    return any(similarity(text, e) >= CLOSE for e in prepared(examples))
