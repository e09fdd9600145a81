"""Alternating pairs: runs two benchmark commands A, B, A, B, … and prints each figure with the load beside it, and their medians.

Run: .venv/bin/python benchmarks/pairs.py --pairs 3 --figure events_per_second --figure p99_ms \\
         --a "python benchmarks/webhook_load.py" --b "python benchmarks/webhook_load.py --target floor"
Each command prints one JSON document; a figure is a dotted path into it (`phases.1.p99_ms`).
Alternating spreads a machine that speeds up or slows down over both sides, and the 1-minute
load average read from /proc/loadavg before each run says how busy the machine was. The table
is Markdown, ready for the README; `--json FILE` also keeps every run, and `--runs FILE`
tabulates kept runs again (other figures, say) without running anything.
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
import time
from typing import Any


def figure(document: Any, path: str) -> Any:
    """The value at a dotted path (`phases.1.p99_ms`: a key, then a list's index, then a key)."""
    try:
        for part in path.split("."):
            document = document[int(part)] if isinstance(document, list) else document[part]
    except (KeyError, IndexError, ValueError, TypeError):
        sys.exit(f"no figure at {path!r} in the command's output")
    return document


def load_average() -> float:
    with open("/proc/loadavg") as handle:
        return float(handle.read().split()[0])


def run_once(command: str) -> dict[str, Any]:
    """Runs the command; its standard output, from its first `{`, is the JSON document."""
    done = subprocess.run(shlex.split(command), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{command!r} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout[done.stdout.index("{") :])


def alternate(commands: dict[str, str], pairs: int) -> list[dict[str, Any]]:
    """Each run: which side, its pair, the load before it, the clock time and the document."""
    runs = []
    for number in range(1, pairs + 1):
        for side, command in commands.items():
            load, at = load_average(), time.strftime("%H:%M:%S")
            runs.append(
                {"pair": number, "side": side, "load": load, "at": at, "result": run_once(command)}
            )
            print(f"pair {number} {side} done at load {load:.2f}", file=sys.stderr)
    return runs


def table(runs: list[dict[str, Any]], specs: list[str], labels: dict[str, str]) -> str:
    """Every run as a row, then each side's medians, then A's medians over B's; a spec is a
    figure's path, or `path=heading` to head its column with a shorter name."""
    figures = [spec.split("=", 1)[0] for spec in specs]
    headings = [spec.split("=", 1)[-1] for spec in specs]
    lines = [
        "| pair | side | started | load (1 min) | " + " | ".join(headings) + " |",
        "|---|---|---|---|" + "---|" * len(figures),
    ]
    for run in runs:
        values = [_shown(figure(run["result"], path)) for path in figures]
        lines.append(
            f"| {run['pair']} | {labels[run['side']]} | {run['at']} | {run['load']:.2f} | "
            + " | ".join(values)
            + " |"
        )
    medians = {side: _medians(runs, side, figures) for side in labels}
    for side, label in labels.items():
        loads = statistics.median(run["load"] for run in runs if run["side"] == side)
        shown = " | ".join(_shown(value) for value in medians[side])
        lines.append(f"| median | {label} | | {loads:.2f} | {shown} |")
    ratios = [
        _shown(round(a / b, 2)) if b else "–"
        for a, b in zip(medians["a"], medians["b"], strict=True)
    ]
    lines.append(f"| ratio | {labels['a']} / {labels['b']} | | | " + " | ".join(ratios) + " |")
    return "\n".join(lines)


def _medians(runs: list[dict[str, Any]], side: str, figures: list[str]) -> list[float]:
    mine = [run["result"] for run in runs if run["side"] == side]
    return [statistics.median(figure(result, path) for result in mine) for path in figures]


def _shown(value: Any) -> str:
    if isinstance(value, float) and value == int(value) and abs(value) >= 100:
        value = int(value)
    return f"{value:,}" if isinstance(value, int | float) else str(value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--a", help="the first command (esmbot, usually)")
    parser.add_argument("--b", help="the second command (its floor, usually)")
    parser.add_argument("--labels", nargs=2, default=["A", "B"], metavar=("A", "B"))
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument(
        "--figure", action="append", required=True, help="a dotted path, or path=heading"
    )
    parser.add_argument("--json", help="also write every run to this file")
    parser.add_argument("--runs", help="tabulate the runs a --json file kept, running nothing")
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")
    if args.runs:
        with open(args.runs) as handle:
            runs = json.load(handle)
    elif args.a and args.b:
        runs = alternate({"a": args.a, "b": args.b}, args.pairs)
    else:
        parser.error("give the two commands (--a and --b), or --runs FILE")
    if args.json and not args.runs:
        with open(args.json, "w") as handle:
            json.dump(runs, handle, indent=1)
    print(table(runs, args.figure, dict(zip(("a", "b"), args.labels, strict=True))))


if __name__ == "__main__":
    main()
