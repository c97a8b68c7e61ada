"""How long the definition reader may take: the largest file it accepts, the time to parse the
largest accepted definition, the time to refuse a "billion laughs" document, each against a
fixed reference (a 10M-step pure-Python loop on the same machine) so figures compare across
machines.

    python bench/yaml_bound.py [--repeat 5]

Prints a table and writes bench/results/yaml_bound.json.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from domain.yamlsource import MAX_DEPTH, MAX_NODES, MAX_YAML_BYTES, YamlError, load_yaml
from rubrics import BUNDLED_DIR as RUBRICS_DIR
from rubrics.loader import load_rubric

RESULTS = Path(__file__).resolve().parent / "results"
LOL = '["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
BOMB = f"a: &a {LOL}\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)


def reference() -> None:
    for _ in range(10_000_000):
        pass


def largest_rubric() -> str:
    """The bundled rubric, its criteria repeated (ids made unique) to just under the size cap."""
    head, _, criteria = (RUBRICS_DIR / "support-core.yaml").read_text().partition("criteria:\n")
    text, copy = head.replace("status: approved\napproved_by: qa-lead\n", "status: draft\n"), 0
    text += "criteria:\n"
    while True:
        more = re.sub(r"^  - id: (\w+)", rf"  - id: \1_{copy}", criteria, flags=re.M)
        if len((text + more).encode()) > MAX_YAML_BYTES:
            return text
        text, copy = text + more, copy + 1


def most_values() -> str:
    """The most values a file may hold, in the cheapest bytes: the worst accepted shape."""
    return "[" + ",".join(["1"] * (MAX_NODES - 1)) + "]\n"


def seconds(action: Callable[[], object], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def refuse(path: Path) -> None:
    try:
        load_yaml(path)
    except YamlError:
        return
    raise AssertionError(f"{path.name} was accepted")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        rubric = folder / "support-core.yaml"
        rubric.write_text(largest_rubric())
        loaded, problems = load_rubric(rubric)
        assert loaded is not None, problems
        values = folder / "values.yaml"
        values.write_text(most_values())
        bomb = folder / "bomb.yaml"
        bomb.write_text(BOMB)
        over = folder / "over.yaml"
        over.write_text("#" * MAX_YAML_BYTES + "\n")
        base = seconds(reference, args.repeat)
        figures = {
            "parse the largest accepted rubric (YAML)": seconds(
                lambda: load_yaml(rubric), args.repeat
            ),
            "parse and check it (YAML, model, CEL)": seconds(
                lambda: load_rubric(rubric), args.repeat
            ),
            f"parse {MAX_NODES - 1:,} values (worst accepted)": seconds(
                lambda: load_yaml(values), args.repeat
            ),
            "refuse a billion laughs": seconds(lambda: refuse(bomb), args.repeat),
            "refuse a file over the size cap": seconds(lambda: refuse(over), args.repeat),
        }
        sizes = {
            "largest rubric": rubric.stat().st_size,
            "values file": values.stat().st_size,
            "bomb": bomb.stat().st_size,
        }
    print(
        f"definition reader bounds: at most {MAX_YAML_BYTES:,} bytes, {MAX_NODES:,} values, "
        f"{MAX_DEPTH} deep; no anchors or aliases"
    )
    print(
        f"largest rubric accepted: {sizes['largest rubric']:,} bytes, "
        f"{len(loaded.criteria)} criteria"
    )
    print(f"{'':<44}{'ms':>10}{'x reference':>14}")
    print(f"{'reference: 10M-step pure-Python loop':<44}{1000 * base:>10.1f}{1.0:>14.3f}")
    for name, value in figures.items():
        print(f"{name:<44}{1000 * value:>10.1f}{value / base:>14.3f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "yaml_bound.json").write_text(
        json.dumps(
            {
                "max_yaml_bytes": MAX_YAML_BYTES,
                "max_nodes": MAX_NODES,
                "max_depth": MAX_DEPTH,
                "sizes_bytes": sizes,
                "repeat": args.repeat,
                "reference_ms": round(1000 * base, 2),
                "ms": {k: round(1000 * v, 2) for k, v in figures.items()},
                "x_reference": {k: round(v / base, 4) for k, v in figures.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
