#!/usr/bin/env python3
"""Seed 000's own per-queue work with requests, the anchor cxrun's benchmark is measured against:
for every queue, fetch it, build the payload (maxWaitTime + 1), validate it, and PUT it with
If-Match, retrying a 429 after its Retry-After. Sequential, one session, as the seed wrote it.

Usage: seed000_loop.py BASE_URL CLIENT_ID CLIENT_SECRET
"""
import sys
import time

import requests


def main() -> int:
    base, client_id, secret = sys.argv[1:4]
    s = requests.Session()
    token = s.post(base + "/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                               "client_secret": secret}).json()["access_token"]
    s.headers["Authorization"] = "Bearer " + token

    def call(method, url, **kwargs):
        while True:
            r = s.request(method, url, **kwargs)
            if r.status_code == 429:
                time.sleep(float(r.headers.get("Retry-After", "1")))
                continue
            return r

    ids, page = [], 1
    while True:
        listing = call("GET", base + "/api/v2/routing/queues", params={"page": page, "pageSize": 100}).json()
        ids += [q["id"] for q in listing["data"]]
        if page >= listing["totalPages"]:
            break
        page += 1
    for queue_id in ids:
        q = call("GET", f"{base}/api/v2/routing/queues/{queue_id}").json()
        payload = dict(q)
        payload["maxWaitTime"] = q["maxWaitTime"] + 1
        if not 1 <= payload["maxWaitTime"] <= 3600:
            raise SystemExit(f"{q['name']}: maxWaitTime out of range")
        version = payload.pop("version")
        call("PUT", f"{base}/api/v2/routing/queues/{queue_id}", json=payload, headers={"If-Match": str(version)}).raise_for_status()
    print(len(ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
