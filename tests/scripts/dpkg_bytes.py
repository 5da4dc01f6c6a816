#!/usr/bin/env python3
"""Independent count of dpkg package bytes in an OCI layout image, for the corpus test.

Shares no code with layersift: reads the layout with json, every layer with tarfile,
applies OCI whiteouts to build the final filesystem, then, for every package that
var/lib/dpkg/status says is installed, sums the sizes of the visible regular files its
info/NAME.list (or NAME:ARCH.list) names, each path once, resolving symlinked directories
inside the image (merged /usr lists /bin/bash, the image holds /usr/bin/bash).

usage: dpkg_bytes.py LAYOUT_DIR REF  ->  JSON {name: {"version": V, "bytes": N}} on stdout
"""
import json
import os
import posixpath
import sys
import tarfile

layout, ref = sys.argv[1], sys.argv[2]


def blob(digest):
    algo, hexd = digest.split(":", 1)
    return os.path.join(layout, "blobs", algo, hexd)


index = json.load(open(os.path.join(layout, "index.json")))
desc = next(
    m for m in index["manifests"]
    if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref
)
manifest = json.load(open(blob(desc["digest"])))

# path (no leading slash) -> (kind, size, linkname)
fs = {}
wanted = {}  # contents of dpkg metadata files, as of the layer that wrote them


def remove_tree(p):
    for k in [k for k in fs if k == p or k.startswith(p + "/")]:
        del fs[k]
        wanted.pop(k, None)


for layer in manifest["layers"]:
    with tarfile.open(blob(layer["digest"]), "r:*") as tar:
        members = tar.getmembers()
        # Whiteouts apply to lower layers first.
        for m in members:
            name = posixpath.normpath(m.name.lstrip("/"))
            if name == ".":
                continue
            base = posixpath.basename(name)
            parent = posixpath.dirname(name)
            if base == ".wh..wh..opq":
                for k in [k for k in fs if k.startswith(parent + "/" if parent else "")]:
                    if k != parent:
                        del fs[k]
                        wanted.pop(k, None)
            elif base.startswith(".wh."):
                remove_tree(posixpath.join(parent, base[4:]))
        for m in members:
            name = posixpath.normpath(m.name.lstrip("/"))
            if name in (".", ""):
                continue
            if posixpath.basename(name).startswith(".wh."):
                continue
            if name in fs and fs[name][0] == "dir" and not m.isdir():
                remove_tree(name)
            if m.isreg():
                fs[name] = ("file", m.size, "")
                if name == "var/lib/dpkg/status" or (
                    name.startswith("var/lib/dpkg/info/") and name.endswith(".list")
                ):
                    wanted[name] = tar.extractfile(m).read().decode("utf-8", "replace")
                else:
                    wanted.pop(name, None)
            elif m.isdir():
                fs[name] = ("dir", 0, "")
            elif m.issym():
                fs[name] = ("symlink", 0, m.linkname)
            elif m.islnk():
                fs[name] = ("hardlink", 0, m.linkname)
            else:
                fs[name] = ("other", 0, "")


def resolve(path):
    """Resolves symlinks in the directory part of an absolute listed path."""
    done = []
    todo = [c for c in path.split("/") if c not in ("", ".")]
    todo.reverse()
    hops = 0
    while todo:
        c = todo.pop()
        if c == "..":
            if done:
                done.pop()
            continue
        done.append(c)
        if not todo:
            break
        cur = "/".join(done)
        entry = fs.get(cur)
        if entry and entry[0] == "symlink":
            hops += 1
            if hops > 40:
                return None
            done.pop()
            target = entry[2]
            if target.startswith("/"):
                done = []
            parts = [t for t in target.split("/") if t not in ("", ".")]
            todo.extend(reversed(parts))
    return "/".join(done)


packages = {}
stanzas = wanted.get("var/lib/dpkg/status", "").split("\n\n")
for stanza in stanzas:
    fields = {}
    for line in stanza.splitlines():
        if line[:1] in (" ", "\t") or ":" not in line:
            continue
        k, v = line.split(":", 1)
        fields[k] = v.strip()
    if "Package" not in fields or "Version" not in fields:
        continue
    if not fields.get("Status", "installed").endswith(" installed"):
        continue
    name = fields["Package"]
    lists = [
        v for k, v in wanted.items()
        if k.startswith("var/lib/dpkg/info/")
        and posixpath.basename(k)[: -len(".list")].split(":")[0] == name
    ]
    seen = set()
    total = 0
    for text in lists:
        for line in text.splitlines():
            if not line.startswith("/") or line == "/.":
                continue
            real = resolve(line)
            if real is None or real in seen:
                continue
            e = fs.get(real)
            if e and e[0] == "file":
                seen.add(real)
                total += e[1]
    packages[name] = {"version": fields["Version"], "bytes": total}

json.dump(packages, sys.stdout, indent=1, sort_keys=True)
