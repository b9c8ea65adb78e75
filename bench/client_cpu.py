#!/usr/bin/env python3
"""The Python side of cxrun-bench's client-CPU figure: the same requests cxrun's scripts make,
with requests and one session. The bench subtracts the CPU of `empty` (start-up, import, token)
from the others and divides by the requests made.

Usage: client_cpu.py BASE_URL CLIENT_ID CLIENT_SECRET empty|reads N|floor N|pairs
  reads N  N fetches (GET one queue), cycling over the queues
  floor N  the same N fetches over one raw socket: a request written, its answer read, nothing
           parsed but the head: what any client pays the kernel per request, the floor
  pairs    for every queue a fetch, then a PUT of it with maxWaitTime + 1 (If-Match)
  floorpairs  the same fetch and PUT for every queue over one raw socket: the body sent back as
           read (its version found by a byte search), nothing else parsed
"""
import re
import socket
import sys
from urllib.parse import urlsplit

import requests


def main() -> int:
    base, client_id, secret, mode = sys.argv[1:5]
    s = requests.Session()
    token = s.post(base + "/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                               "client_secret": secret}).json()["access_token"]
    s.headers["Authorization"] = "Bearer " + token
    if mode == "empty":
        return 0
    ids, page = [], 1
    while True:
        listing = s.get(base + "/api/v2/routing/queues", params={"page": page, "pageSize": 100}).json()
        ids += [q["id"] for q in listing["data"]]
        if page >= listing["totalPages"]:
            break
        page += 1
    if mode == "floor":
        return floor(base, token, ids, int(sys.argv[5]))
    if mode == "floorpairs":
        return floor_pairs(base, token, ids)
    if mode == "reads":
        for i in range(int(sys.argv[5])):
            s.get(f"{base}/api/v2/routing/queues/{ids[i % len(ids)]}").raise_for_status()
    else:
        for queue_id in ids:
            q = s.get(f"{base}/api/v2/routing/queues/{queue_id}").json()
            version = q.pop("version")
            q["maxWaitTime"] += 1
            s.put(f"{base}/api/v2/routing/queues/{queue_id}", json=q, headers={"If-Match": str(version)}).raise_for_status()
    return 0


def exchange(sock, request: bytes) -> bytes:
    """One request written and its answer read: the head searched, the body taken by its length."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise SystemExit(head.split(b"\r\n")[0].decode())
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += sock.recv(65536)
    return body


def connect(base: str):
    url = urlsplit(base)
    sock = socket.create_connection((url.hostname, url.port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock, url.netloc


def floor(base: str, token: str, ids: list, n: int) -> int:
    sock, host = connect(base)
    for i in range(n):
        exchange(sock, (f"GET /api/v2/routing/queues/{ids[i % len(ids)]} HTTP/1.1\r\nHost: {host}\r\n"
                        f"Accept: application/json\r\nAuthorization: Bearer {token}\r\n\r\n").encode())
    return 0


def floor_pairs(base: str, token: str, ids: list) -> int:
    sock, host = connect(base)
    for queue_id in ids:
        body = exchange(sock, (f"GET /api/v2/routing/queues/{queue_id} HTTP/1.1\r\nHost: {host}\r\n"
                               f"Accept: application/json\r\nAuthorization: Bearer {token}\r\n\r\n").encode())
        version = re.search(rb'"version"\s*:\s*(\d+)', body).group(1).decode()
        exchange(sock, (f"PUT /api/v2/routing/queues/{queue_id} HTTP/1.1\r\nHost: {host}\r\nAccept: application/json\r\n"
                        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\nIf-Match: {version}\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
