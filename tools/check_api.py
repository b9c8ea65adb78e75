#!/usr/bin/env python3
"""The sandbox tenant against its own contract: schemathesis runs every operation of the
tenant's /openapi.yaml (bearer token from the demo client) and fails on any 5xx, any response
that does not match the document, and any status code the document does not list.

Usage: tools/check_api.py CXRUN_BINARY SCHEMATHESIS [--examples N]
Starts `cxrun sim --port 0` in a scratch folder, reads its address, and stops it afterwards.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("cxrun")
    parser.add_argument("schemathesis")
    parser.add_argument("--examples", type=int, default=100)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="cxrun-check-api-")
    sim = subprocess.Popen([os.path.abspath(args.cxrun), "sim", "--port", "0", "--clock", "2026-01-05T03:00:00Z"], cwd=folder,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = sim.stdout.readline()
        if "http://" not in first:
            print(f"check-api: cxrun sim did not start: {first}{sim.stdout.read()}", file=sys.stderr)
            return 1
        base = first.strip().split()[-1]
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": "cxrun-demo",
                                       "client_secret": "cxrun-demo-secret"}).encode()
        with urllib.request.urlopen(base + "/oauth/token", data=form, timeout=30) as reply:
            token = json.load(reply)["access_token"]
        command = [os.path.abspath(args.schemathesis), "run", base + "/openapi.yaml", "--header", f"Authorization: Bearer {token}",
                   "--checks", "not_a_server_error,response_schema_conformance,status_code_conformance",
                   "--max-examples", str(args.examples), "--seed", "1", "--no-color"]
        print("check-api:", " ".join(command[:3]), f"(max {args.examples} examples per operation)", flush=True)
        return subprocess.call(command, cwd=folder)
    finally:
        sim.send_signal(signal.SIGKILL)  # the sim may inherit a blocked SIGTERM
        sim.wait()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
