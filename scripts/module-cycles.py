#!/usr/bin/env python3
"""Fails when a module of a product crate imports a module that imports it
back (directly or around a longer cycle).

For every crate under crates/ and components/, each file under src/ is a
module (`a/b.rs` and `a/b/mod.rs` are `a::b`; `lib.rs` is the root). A
module depends on another when its code names it by path: `crate::x::...`,
`super::x` (resolved from the file's place) or `self::x` / a child module it
declares. Dependencies are taken at the level of the crate's top modules
(`crate::delivery::Step` counts as a dependency on `delivery`), and on a
module's own children; a module's dependency on its parent (`super::*` in a
child, its tests included) is how Rust nests code, not a cycle. Usage:
scripts/module-cycles.py [ROOT]. Exit 1 with each cycle named.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
PATH = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
COMMENT = re.compile(r"//.*?$|/\*.*?\*/", re.S | re.M)
STRING = re.compile(r'"(?:\\.|[^"\\])*"')


def module_of(src: pathlib.Path, file: pathlib.Path) -> tuple:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def top(module: tuple) -> tuple:
    return module[:1]


def dependencies(src: pathlib.Path, modules: set) -> dict:
    deps = {}
    for file in sorted(src.rglob("*.rs")):
        me = module_of(src, file)
        text = STRING.sub('""', COMMENT.sub("", file.read_text()))
        # Test modules are the module's own (`mod tests;` reaching back with
        # `super::*`): they never make a cycle between modules.
        if me and me[-1] == "tests":
            continue
        out = deps.setdefault(me, set())
        for kind, rest in PATH.findall(text):
            names = tuple(rest.strip(":").split("::"))
            if kind == "crate":
                target = names
            elif kind == "self":
                target = me + names
            else:
                base, names = me[:-1], list(names)
                while names and names[0] == "super":
                    base, names = base[:-1], names[1:]
                target = base + tuple(names)
            # The longest prefix that is a module of this crate.
            while target and target not in modules:
                target = target[:-1]
            if not target or target == me:
                continue
            # Parents are not dependencies (nesting); ancestors' siblings
            # are compared at the level where the two paths part.
            if me[: len(target)] == target:
                continue
            common = 0
            while common < min(len(me), len(target)) and me[common] == target[common]:
                common += 1
            a, b = me[: common + 1], target[: common + 1]
            deps.setdefault(a, set()).add(b)
    return deps


def cycles(graph: dict) -> list:
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 1:
                found.append(sorted(scc))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    bad = 0
    crates = sorted(p for d in ("crates", "components") for p in (ROOT / d).glob("*/src"))
    for src in crates:
        modules = {module_of(src, f) for f in src.rglob("*.rs")}
        for scc in cycles(dependencies(src, modules)):
            bad += 1
            names = ", ".join("::".join(m) or "crate" for m in scc)
            print(f"{src.parent.name}: modules import each other: {names}")
    print(f"module cycles: {bad} in {len(crates)} crates")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
