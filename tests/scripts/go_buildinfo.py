#!/usr/bin/env python3
"""Independent reader of a Go binary's build info, for tests: finds the `.go.buildinfo`
section by name through the ELF section headers (layersift never reads them) and decodes
the Go 1.18+ inline form. Prints JSON: go_version, path, module, version, deps."""
import json
import struct
import sys


def uvarint(b, i):
    n = shift = 0
    while True:
        c = b[i]
        i += 1
        n |= (c & 0x7F) << shift
        if c < 0x80:
            return n, i
        shift += 7


def main(path):
    d = open(path, "rb").read()
    assert d[:4] == b"\x7fELF", "not ELF"
    is64 = d[4] == 2
    end = "<" if d[5] == 1 else ">"
    if is64:
        shoff, = struct.unpack_from(end + "Q", d, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", d, 0x3A)
    else:
        shoff, = struct.unpack_from(end + "I", d, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", d, 0x2E)

    def section(k):
        o = shoff + k * shentsize
        if is64:
            name, _t, _f, _a, off, size = struct.unpack_from(end + "IIQQQQ", d, o)
        else:
            name, _t, _f, _a, off, size = struct.unpack_from(end + "IIIIII", d, o)
        return name, off, size

    _, stroff, _ = section(shstrndx)
    for k in range(shnum):
        name, off, size = section(k)
        nm = d[stroff + name : d.index(b"\0", stroff + name)]
        if nm == b".go.buildinfo":
            break
    else:
        sys.exit("no .go.buildinfo section")
    b = d[off:]
    assert b[:14] == b"\xff Go buildinf:" and b[15] & 2, "not the inline form"
    i = 32
    n, i = uvarint(b, i)
    go_version = b[i : i + n].decode()
    i += n
    n, i = uvarint(b, i)
    mod = b[i : i + n].decode(errors="replace")
    if len(mod) >= 33 and mod[-17] == "\n":
        mod = mod[16:-16]
    out = {"go_version": go_version, "path": "", "module": "", "version": "", "deps": []}
    for line in mod.split("\n"):
        f = line.split("\t")
        if f[0] == "path" and len(f) > 1:
            out["path"] = f[1]
        elif f[0] == "mod" and len(f) > 2:
            out["module"], out["version"] = f[1], f[2]
        elif f[0] == "dep" and len(f) > 2:
            out["deps"].append([f[1], f[2]])
        elif f[0] == "=>" and len(f) > 2 and out["deps"]:
            out["deps"][-1] = [f[1], f[2]]
    if not out["module"]:
        out["module"] = out["path"]
    print(json.dumps(out))


main(sys.argv[1])
