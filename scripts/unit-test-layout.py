#!/usr/bin/env python3
"""Fails when a product crate declares its unit tests inline.

One layout for every crate under crates/ and components/: a module's unit
tests live in a sibling file, `x.rs` declaring `#[cfg(test)] mod tests;`
and the tests in `x/tests.rs` (`mod.rs` and `lib.rs` use `tests.rs` next to
them), so a source file holds only the code it is named for. Usage:
scripts/unit-test-layout.py [ROOT]. Exit 1 with each inline module named.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
INLINE = re.compile(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+tests\s*\{", re.M)

inline = []
for top in ("crates", "components"):
    for file in sorted((ROOT / top).glob("*/src/**/*.rs")):
        text = file.read_text(encoding="utf-8")
        for match in INLINE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            inline.append(f"{file.relative_to(ROOT)}:{line}")

if inline:
    print("unit tests declared inline (move them to a sibling tests.rs):", file=sys.stderr)
    for where in inline:
        print(f"  {where}", file=sys.stderr)
    sys.exit(1)
print("unit tests: every module keeps them in a sibling tests.rs")
