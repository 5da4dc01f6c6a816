#!/usr/bin/env python3
"""Checks that the first stages of the pipeline import one way only:

    cache  <-  source  <-  layers  ->  decode  ->  cache? (no: decode needs no cache)

`source` and `decode` never import each other, `cache` imports neither (nor `layers`),
and only `layers` sees both sources and decode. Reads every `crate::MODULE` path in the
code of src/ (comments stripped) and maps it to the top-level module of the file it is in.
Prints the edges between these four modules; exits 1 on a forbidden one.

    scripts/check-layers.py [SRC_DIR]
"""
import pathlib
import re
import sys

src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src")
WATCHED = {"source", "decode", "cache", "layers", "digest"}
FORBIDDEN = {
    ("source", "decode"): "sources know nothing of decode",
    ("decode", "source"): "decode knows nothing of where blobs come from",
    ("source", "layers"): "the layer stage sits above the sources",
    ("decode", "layers"): "the layer stage sits above decode",
    ("cache", "source"): "the cache sits below its users",
    ("cache", "decode"): "the cache sits below its users",
    ("cache", "layers"): "the cache sits below its users",
}


def top_module(path: pathlib.Path) -> str:
    rel = path.relative_to(src)
    return rel.parts[0].removesuffix(".rs")


def code_of(text: str) -> str:
    """The text without comments and string literals (roughly: enough for paths)."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


def referenced(code: str) -> set:
    mods = set(re.findall(r"\bcrate::([a-z_][a-z0-9_]*)", code))
    # `use crate::{a::X, b};`
    for group in re.findall(r"\bcrate::\{([^}]*)\}", code):
        mods.update(re.findall(r"(?:^|[,{\s])([a-z_][a-z0-9_]*)", group))
    return mods


edges = {}
for path in sorted(src.rglob("*.rs")):
    here = top_module(path)
    if here not in WATCHED:
        continue
    for there in referenced(code_of(path.read_text())):
        if there in WATCHED and there != here:
            edges.setdefault((here, there), []).append(str(path))

bad = 0
for (a, b), files in sorted(edges.items()):
    why = FORBIDDEN.get((a, b))
    mark = "FORBIDDEN" if why else "ok"
    print(f"{a:>7} -> {b:<7} {mark:9} {', '.join(sorted(set(files)))}")
    if why:
        print(f"          {why}")
        bad += 1
if bad:
    sys.exit(1)
print("no forbidden imports between source, decode, cache and layers")
