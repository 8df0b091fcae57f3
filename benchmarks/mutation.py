"""Mutation testing of the engine and lifecycle modules with mutmut 3 (a developer command, not CI).

    python benchmarks/mutation.py                    # run (or resume) every mutant, then print the score
    python benchmarks/mutation.py --max-children 2   # two test processes (default 1: the machine is shared)
    python benchmarks/mutation.py --summary          # the score and the survivors of the last run, no run
    python benchmarks/mutation.py NAME ...           # rerun the named mutants only (after adding a test)

What is mutated and which tests run is configured in ``[tool.mutmut]`` of pyproject.toml. mutmut
copies the package into ``mutants/`` (git-ignored), remembers each mutant's verdict there and resumes
where it stopped; delete ``mutants/`` for a fresh run. The run is niced and its output goes to
``mutants/run.log``. Inspect a survivor with ``mutmut show NAME``; ``mutmut browse`` is interactive.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).with_name("mutmut")
STATS = ROOT / "mutants" / "mutmut-cicd-stats.json"


def _env() -> dict[str, str]:
    # mutmut puts mutants/ first on sys.path itself; a PYTHONPATH pointing at the sources would hide the mutants.
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    # The mutants are the numpy reference kernel's: the tests run it (the compiled kernel is held equal to it by
    # tests/test_compiled.py; mutating numba code would recompile it for every mutant).
    env["CHANNEL_SIM_ENGINE"] = "numpy"
    return env


def mutmut(*args: str, log: Path | None = None) -> subprocess.CompletedProcess:
    command = ["nice", "-n", "10", str(MUTMUT), *args]
    if log is None:
        return subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True, check=False)
    log.parent.mkdir(exist_ok=True)
    with log.open("a") as out:
        return subprocess.run(command, cwd=ROOT, env=_env(), stdout=out, stderr=subprocess.STDOUT, check=False)


def summary() -> int:
    """Print the counts of the last run and its surviving mutants; 1 if there is no run yet."""
    done = mutmut("export-cicd-stats")
    if not STATS.exists():
        print(done.stdout.strip() or done.stderr.strip() or "no mutation run yet: run this script without --summary")
        return 1
    stats = json.loads(STATS.read_text())
    tested = stats["killed"] + stats["survived"] + stats["timeout"] + stats["suspicious"] + stats["segfault"]
    score = (stats["killed"] + stats["timeout"]) / tested if tested else float("nan")
    print(
        f"mutants {stats['total']}: killed {stats['killed']}, survived {stats['survived']}, "
        f"timeout {stats['timeout']}, suspicious {stats['suspicious']}, no tests {stats['no_tests']}, "
        f"not checked {stats['total'] - tested - stats['no_tests'] - stats['skipped']}; "
        f"score {score:.1%} of the tested mutants"
    )
    listing = mutmut("results").stdout  # every mutant not killed, one per line: "name: status"
    survivors = [line.strip() for line in listing.splitlines() if line.strip().endswith((": survived", ": no tests"))]
    if survivors:
        print("not killed (see `mutmut show NAME`):")
        for line in survivors:
            print("   ", line)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mutants", nargs="*", help="mutant names to rerun (default: all)")
    parser.add_argument("--max-children", type=int, default=1, help="test processes at once (default 1)")
    parser.add_argument("--summary", action="store_true", help="only print the last run's score and survivors")
    args = parser.parse_args(argv)
    if not MUTMUT.exists():
        print(f"mutmut is not installed beside {sys.executable}: pip install -e '.[dev]'")
        return 2
    if not args.summary:
        log = ROOT / "mutants" / "run.log"
        print(f"running mutmut (niced, {args.max_children} process(es)); progress in {log.relative_to(ROOT)}")
        mutmut("run", "--max-children", str(args.max_children), *args.mutants, log=log)
    return summary()


if __name__ == "__main__":
    raise SystemExit(main())
