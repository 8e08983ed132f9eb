#!/usr/bin/env python3
"""Runs the README's quick start against a running app and compares every
answer with the one the README shows, so a stale schema name, route or
answer fails the test command (tests/dev-up-smoke.sh calls it against the
app scripts/dev-up.sh serves).

The quick start is the first ```sh block after the "## Quick start"
heading. Each `# → EXPECTED` line closes the commands above it: they run in
one bash (with `B` set to the app's base URL, as the block's first line
sets it for a reader), and their output must match EXPECTED, where `…`
stands for any text (ids and times). Lines starting `# ` without the arrow
are prose for the reader.

Usage: tests/quickstart.py BASE_URL [README]
"""
import pathlib
import re
import subprocess
import sys

ARROW = "# → "


def steps(readme: str) -> list[tuple[str, str]]:
    section = readme.split("\n## Quick start", 1)
    if len(section) < 2:
        sys.exit("quickstart: README has no '## Quick start' section")
    block = re.search(r"```sh\n(.*?)```", section[1], re.S)
    if not block:
        sys.exit("quickstart: the quick start has no ```sh block")
    out, commands = [], []
    for line in block.group(1).splitlines():
        if line.startswith(ARROW):
            out.append(("\n".join(commands), line[len(ARROW):]))
            commands = []
        elif line.startswith("B="):
            continue  # the base URL: set from the command line instead
        else:
            commands.append(line)
    if not out:
        sys.exit("quickstart: no '# → ' answers in the quick start")
    return out


def matches(expected: str, actual: str) -> bool:
    pattern = ".*?".join(re.escape(part) for part in expected.split("…"))
    return re.fullmatch(pattern, actual.strip(), re.S) is not None


def main() -> int:
    base = sys.argv[1].rstrip("/")
    readme = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else
                          pathlib.Path(__file__).resolve().parent.parent / "README.md")
    failed = 0
    todo = steps(readme.read_text())
    for commands, expected in todo:
        run = subprocess.run(["bash", "-c", f"B={base}\n{commands}"], capture_output=True,
                             text=True, timeout=60)
        actual = run.stdout.strip()
        if run.returncode != 0 or not matches(expected, actual):
            failed += 1
            print(f"quickstart: FAIL\n  commands: {commands.strip()}\n  expected: {expected}\n"
                  f"  actual:   {actual}\n  stderr:   {run.stderr.strip()[-500:]}", file=sys.stderr)
    sys.stderr.flush()
    print(f"quickstart: {len(todo) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
