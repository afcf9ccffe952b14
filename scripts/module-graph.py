#!/usr/bin/env python3
"""Prints the import graph between the crate's top-level modules (tests excluded) and exits 1
if it has a cycle: `python3 scripts/module-graph.py`."""
import os, re, sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
modules = sorted(
    name[:-3] if name.endswith(".rs") else name
    for name in os.listdir(root)
    if name not in ("lib.rs", "main.rs") and (name.endswith(".rs") or os.path.isdir(os.path.join(root, name)))
)
edges = {m: set() for m in modules}
for module in modules:
    path = os.path.join(root, module)
    files = [path + ".rs"] if os.path.isfile(path + ".rs") else [
        os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if f.endswith(".rs")
    ]
    for file in files:
        if file.endswith("_tests.rs"):
            continue
        text = open(file, encoding="utf-8").read()
        # Unit tests at the end of a file import what they like.
        text = text.split("#[cfg(test)]")[0]
        for other in re.findall(r"crate::(\w+)", text):
            if other in edges and other != module:
                edges[module].add(other)

for module in modules:
    print(f"{module:>12} -> {', '.join(sorted(edges[module])) or '-'}")

# Strongly connected components (Tarjan) to name every cycle.
index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w in edges[v]:
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        component = []
        while True:
            w = stack.pop(); on.discard(w); component.append(w)
            if w == v:
                break
        if len(component) > 1:
            cycles.append(sorted(component))
for v in modules:
    if v not in index:
        visit(v)
if cycles:
    for cycle in cycles:
        print("cycle:", " <-> ".join(cycle))
    sys.exit(1)
print("no cycle between top-level modules")
