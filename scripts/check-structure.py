#!/usr/bin/env python3
"""Checks two rules of the code layout and prints what breaks them:

1. no source file (src/, crates/, tests/, benches/, examples/) is over 1,000 lines;
2. no import circle between modules of the library: for every module (a file under src/),
   the modules it names (`crate::a::b`, `super::x`, `use` or path) outside its own line of
   ancestors and descendants are edges; a strongly connected set of two or more modules
   is a circle. A name the crate root re-exports (`crate::Analysis`, from `pub use` lines
   in src/lib.rs) counts as its module. Unit-test modules (`#[cfg(test)] mod tests` to the
   end of a file) are left out. Circles listed in ALLOWED are reported but do not fail;
3. the module map (docs/modules.md) has one row for every module under src/ (`a/b` for
   src/a/b.rs or src/a/b/mod.rs, `lib` and `main` for the roots) and none for a module
   that is gone.

`.ci/run` runs it, so a new circle or a long file fails CI.

Usage: scripts/check-structure.py [REPO]   (exit 1 when a rule is broken)
"""

import re
import sys
from pathlib import Path

MAX_LINES = 1000
MODULE_MAP = "docs/modules.md"
# None left: source <-> decode (through the cache) went with issue 12.
ALLOWED = []


def rust_files(root):
    for top in ["src", "crates", "tests", "benches", "examples"]:
        yield from sorted((root / top).rglob("*.rs")) if (root / top).is_dir() else []


def module_of(path, src):
    parts = list(path.relative_to(src).with_suffix("").parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def strip_tests(text):
    """The code of a file without its unit-test module and without comments (a doc link
    is no import)."""
    m = re.search(r"^#\[cfg\(test\)\]\s*\nmod \w+\s*\{", text, re.M)
    text = text[: m.start()] if m else text
    return re.sub(r"^\s*//.*$", "", text, flags=re.M)


def root_exports(lib, modules):
    """Names the crate root re-exports (`pub use a::b::{C, D as E};` in lib.rs), each with
    the module it comes from, so that `crate::C` counts as an edge to `a::b`."""
    out = {}
    text = strip_tests(lib.read_text(encoding="utf-8", errors="replace")) if lib.is_file() else ""
    for m in re.finditer(r"\bpub use ((?:\w+::)+)(\{[^}]*\}|\w+(?: as \w+)?)\s*;", text):
        path = tuple(m.group(1).strip(":").split("::"))
        while path and path not in modules:
            path = path[:-1]
        if not path:
            continue
        for item in m.group(2).strip("{}").split(","):
            words = item.split()
            if words:
                out[words[-1]] = path
    return out


def refs(text, here, modules, exports=None):
    """Modules named in `text` of module `here` (`exports`: the crate root's re-exports)."""
    out = set()
    for m in re.finditer(r"\bcrate::(\w+)\b(?!::)", text):
        if exports and m.group(1) in exports:
            out.add(exports[m.group(1)])
    # Expand `use x::{a, b::c}` groups only roughly: every path-looking token counts.
    for m in re.finditer(r"\b(crate|super)((?:::\w+)+)", text):
        base = () if m.group(1) == "crate" else here[:-1]
        names = m.group(2).strip(":").split("::")
        path = base + tuple(names)
        # The longest prefix that is a module.
        for n in range(len(path), 0, -1):
            if path[:n] in modules:
                out.add(path[:n])
                break
    # `use crate::{a, b}` / `use super::{a, b}` groups at the first level.
    for m in re.finditer(r"\b(crate|super)::\{([^}]*)\}", text):
        base = () if m.group(1) == "crate" else here[:-1]
        for name in re.findall(r"\b(\w+)", m.group(2)):
            if base + (name,) in modules:
                out.add(base + (name,))
            elif base == () and exports and name in exports:
                out.add(exports[name])
    return out


def related(a, b):
    return a[: len(b)] == b or b[: len(a)] == a


def sccs(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def map_rows(path):
    """The module each row of the module map names: the first `code` of a table row."""
    if not path.is_file():
        return set()
    rows = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"\|\s*`([^`]+)`\s*\|", line)
        if m:
            rows.add(m.group(1))
    return rows


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    failed = False

    long = []
    for f in rust_files(root):
        n = sum(1 for _ in f.open(encoding="utf-8", errors="replace"))
        if n > MAX_LINES:
            long.append((n, f.relative_to(root)))
    for n, f in sorted(long, reverse=True):
        print(f"over {MAX_LINES} lines: {f} ({n})")
    failed |= bool(long)

    src = root / "src"
    files = {module_of(f, src): f for f in src.rglob("*.rs") if f.name != "main.rs"}
    modules = set(files)
    exports = root_exports(src / "lib.rs", modules)
    graph = {}
    for m, f in files.items():
        text = strip_tests(f.read_text(encoding="utf-8", errors="replace"))
        graph[m] = {r for r in refs(text, m, modules, exports) if not related(r, m)}
    # Fold each module into its ancestors at the level where the edge crosses, so that
    # `a::x -> b::y` and `b::z -> a::w` make the circle `a <-> b`.
    lifted = {}
    for m, targets in graph.items():
        for t in targets:
            n = 0
            while n < min(len(m), len(t)) and m[n] == t[n]:
                n += 1
            a, b = m[: n + 1], t[: n + 1]
            lifted.setdefault(a, set()).add(b)
            lifted.setdefault(b, set())
    circles = [c for c in sccs(lifted) if len(c) > 1]
    for c in circles:
        names = sorted("::".join(x) for x in c)
        allowed = any({"::".join(x) for x in c} == a for a in ALLOWED)
        print(("allowed circle: " if allowed else "import circle: ") + " <-> ".join(names))
        failed |= not allowed
    named = map_rows(root / MODULE_MAP)
    want = {"/".join(m) or "lib" for m in modules} | {"main"}
    for m in sorted(want - named):
        print(f"module map: {MODULE_MAP} has no row for `{m}`")
    for m in sorted(named - want):
        print(f"module map: {MODULE_MAP} has a row for `{m}`, which is no module")
    if want != named:
        print(
            f"hint: give each new module a row `| `a/b` | what it owns |` in {MODULE_MAP} "
            "(README.md's map names it in its top-level module's row), and drop the rows of "
            "modules that moved or went"
        )
    failed |= want != named
    print(
        f"{sum(1 for _ in rust_files(root))} files, longest {max((n for n, _ in long), default=0) or 'none over the limit'}; "
        f"{len(modules)} modules, {len(circles)} circle(s); "
        f"module map: {len(want & named)} of {len(want)} modules"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
