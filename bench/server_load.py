#!/usr/bin/env python3
"""Load and bad-input test of `singerid serve` (issue 16, item 7).

Starts the release binary on a free loopback port with a fresh database, fires N identify
requests at once (one thread each, released together by a barrier), reports p50 / p95 / max
latency, errors and the server's peak RSS (VmHWM), then sends empty, truncated, non-audio and
oversized uploads and checks that each is a 4xx and that the server still answers. Prints a
Markdown section for bench/RESULTS.md on stdout. Standard library only.

    python3 bench/server_load.py --requests 200
"""

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
FIXTURE = os.path.join(ROOT, "..", "shared", "data", "fixtures", "formats", "amy_1_01.mp3")


def multipart(name, data):
    boundary = uuid.uuid4().hex
    head = (
        f"--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
        "content-type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def request(port, method, path, body=b"", content_type=None, headers=None, timeout=900):
    """One request on its own connection: (status, headers, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        h = dict(headers or {})
        if content_type:
            h["Content-Type"] = content_type
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def identify(port, name, data):
    content_type, body = multipart(name, data)
    return request(port, "POST", "/api/identify", body, content_type)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def percentile(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "singerid"))
    ap.add_argument("--file", default=FIXTURE)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--max-concurrent", type=int, default=2)
    ap.add_argument("--max-upload-mb", type=int, default=16)
    args = ap.parse_args()

    data = open(args.file, "rb").read()
    work = tempfile.mkdtemp(prefix="singerid-load-")
    port = free_port()
    log = open(os.path.join(work, "server.log"), "w")
    command = [
        args.binary, "serve", "--db", os.path.join(work, "library.sqlite"), "--port", str(port),
        "--max-concurrent", str(args.max_concurrent), "--max-upload-mb", str(args.max_upload_mb),
        # Every request of the burst may wait: the point is latency under load, not refusal.
        "--max-queue", str(args.requests), "--queue-wait", "900",
    ]
    load_before = open("/proc/loadavg").read().split()[:3]
    server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=log)
    try:
        deadline = time.time() + 60
        while True:
            try:
                if request(port, "GET", "/api/health", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or server.poll() is not None:
                sys.exit(f"the server did not start; see {log.name}")
            time.sleep(0.2)
        warm = identify(port, "warm.mp3", data)
        assert warm[0] == 200, warm
        rss_idle = rss_kib(server.pid, "VmRSS")

        # The burst.
        results = [None] * args.requests
        barrier = threading.Barrier(args.requests + 1)

        def one(i):
            barrier.wait()
            t0 = time.perf_counter()
            try:
                status, _, body = identify(port, f"song{i}.mp3", data)
                ok = status == 200 and json.loads(body)["files"][0]["singer"] == "amy"
            except Exception as e:  # noqa: BLE001 - every failure counts as an error
                status, ok = repr(e), False
            results[i] = (status, ok, time.perf_counter() - t0)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(args.requests)]
        for t in threads:
            t.start()
        barrier.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        latencies = [r[2] for r in results]
        errors = [r for r in results if not r[1]]
        rss_peak = rss_kib(server.pid, "VmHWM")
        load_after = open("/proc/loadavg").read().split()[:3]

        # Bad input: every answer a 4xx with a JSON error, and the server still serving.
        limit = args.max_upload_mb * 1024 * 1024
        bad = [
            ("empty upload", lambda: identify(port, "empty.mp3", b"")),
            ("truncated mp3", lambda: identify(port, "half.mp3", data[: len(data) // 2])),
            ("text named .mp3", lambda: identify(port, "notes.mp3", b"hello " * 1000)),
            ("text named .txt", lambda: identify(port, "notes.txt", b"hello " * 1000)),
            (f"oversized ({args.max_upload_mb + 4} MiB)",
             lambda: identify(port, "big.wav", b"\0" * (limit + 4 * 1024 * 1024))),
            ("declared 10 GB, not sent", lambda: request(
                port, "POST", "/api/identify", b"", "multipart/form-data; boundary=x",
                {"Content-Length": "10000000000"})),
            ("not multipart", lambda: request(port, "POST", "/api/identify", b"{}", "application/json")),
        ]
        bad_rows = []
        for what, send in bad:
            try:
                status, _, body = send()
                message = json.loads(body).get("error", "")
            except Exception as e:  # noqa: BLE001
                status, message = repr(e), ""
            bad_rows.append((what, status, message))
        health_after = request(port, "GET", "/api/health")[0]
        identify_after = identify(port, "after.mp3", data)[0]
        alive = server.poll() is None
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"## HTTP server under load: {args.requests} concurrent identify requests ({time.strftime('%Y-%m-%d')})\n")
    print(f"`python3 bench/server_load.py --requests {args.requests}` (server: `{' '.join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in command)}`),")
    print(f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; load average "
          f"before {' '.join(load_before)}, after {' '.join(load_after)} (/proc/loadavg). "
          f"Each request uploads {os.path.basename(args.file)} ({len(data) / 1024:.0f} KiB, 11.4 s) "
          f"over loopback; all {args.requests} are released at once.\n")
    print("| requests | errors | p50 latency | p95 latency | max latency | wall | throughput | RSS idle | peak RSS (VmHWM) |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.requests} | {len(errors)} | {statistics.median(latencies):.2f} s | "
          f"{percentile(latencies, 95):.2f} s | {max(latencies):.2f} s | {wall:.1f} s | "
          f"{args.requests / wall:.1f} req/s | {rss_idle / 1024:.0f} MiB | {rss_peak / 1024:.0f} MiB |\n")
    if errors:
        print(f"Errors: {sorted(set(str(e[0]) for e in errors))}\n")
    print("| bad input | status | error message |")
    print("|---|---|---|")
    for what, status, message in bad_rows:
        print(f"| {what} | {status} | {message[:110]} |")
    print(f"\nAfterwards: server alive {alive}, `/api/health` {health_after}, identify {identify_after}.")
    ok = (not errors and alive and health_after == 200 and identify_after == 200
          and all(isinstance(s, int) and 400 <= s < 500 for _, s, _ in bad_rows))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
