#!/usr/bin/env python3
"""Fails when a target imports a module it does not declare, or declares one it never imports.

SwiftPM puts every built module on every target's search path, so the compiler alone lets a target
import what it does not declare; this check (run by `make test`) holds the arrows of README's
architecture section: cxrun -> Runbook -> {LuaHost, CXone}, SandboxTenant alone.
Reads `swift package dump-package` and the `import` lines of each target's Swift files.
"""
import json
import os
import re
import subprocess
import sys

# Modules every target may import: the toolchain's own.
TOOLCHAIN = {"Foundation", "FoundationEssentials", "Dispatch", "Synchronization", "Glibc", "Darwin", "Testing", "XCTest", "os"}
# Products whose modules are named differently, and modules a product brings along with it.
PRODUCT_MODULES = {
    "AsyncHTTPClient": {"AsyncHTTPClient"},
    "Hummingbird": {"Hummingbird"},
    "GRDB": {"GRDB"},
    "Crypto": {"Crypto"},
    "ArgumentParser": {"ArgumentParser"},
    "Logging": {"Logging"},
    "ServiceLifecycle": {"ServiceLifecycle"},
    "TOMLKit": {"TOMLKit"},
    "NIOCore": {"NIOCore"},
    "NIOHTTP1": {"NIOHTTP1"},
    "NIOPosix": {"NIOPosix"},
    "HTTPTypes": {"HTTPTypes"},
    "PostgresNIO": {"PostgresNIO"},
}
IMPORT = re.compile(r"^\s*(?:@testable\s+|@_exported\s+|public\s+|internal\s+|package\s+)*import\s+(?:struct\s+|class\s+|enum\s+|func\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(?://.*)?$", re.M)


def main() -> int:
    package = json.loads(subprocess.run(["swift", "package", "dump-package"], check=True, capture_output=True, text=True).stdout)
    problems = []
    for target in package["targets"]:
        if target["type"] == "system":
            continue
        declared = set()
        for dep in target["dependencies"]:
            kind, value = next(iter(dep.items()))
            name = value[0]
            declared |= PRODUCT_MODULES.get(name, {name}) if kind == "product" else {name}
        path = target.get("path") or os.path.join("Tests" if target["type"] == "test" else "Sources", target["name"])
        imported = {}
        for root, _, files in os.walk(path):
            for f in files:
                if f.endswith(".swift"):
                    text = open(os.path.join(root, f), encoding="utf-8").read()
                    for module in IMPORT.findall(text):
                        imported.setdefault(module, os.path.join(root, f))
        for module, where in sorted(imported.items()):
            if module not in declared and module not in TOOLCHAIN:
                problems.append(f"{where}: imports {module}, which target {target['name']} does not declare")
        swift_files = any(f.endswith(".swift") for _, _, fs in os.walk(path) for f in fs)
        if target["type"] != "test" and swift_files:
            for dep in target["dependencies"]:
                kind, value = next(iter(dep.items()))
                modules = PRODUCT_MODULES.get(value[0], {value[0]}) if kind == "product" else {value[0]}
                if not modules & set(imported):
                    problems.append(f"Package.swift: target {target['name']} declares {value[0]} but never imports it")
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"imports: every target imports only what it declares ({len(package['targets'])} targets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
