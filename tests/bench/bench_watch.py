#!/usr/bin/env python3
"""bench_watch.py - the watch client of bench_watch.sh (and t_http_watch.sh).

  bench_watch.py latency URL TOKEN CA MNT N
      Holds one watch on configmaps (Accept: Table, as kubectl get -w asks),
      then N times: writes a ConfigMap file into MNT/configmaps (open, write,
      close: the write is committed when close returns) and waits for its
      ADDED event on the watch.  Prints "write_ms p50 p99", "event_ms p50 p99
      max" (from the start of the write to the event's arrival) and
      "after_close_ms p50 p99" (from close's return to the event).
  bench_watch.py idle URL TOKEN CA PID N
      Opens N watches (pods, all namespaces), each its own TLS connection,
      reads their response headers, and prints the server's VmRSS (kB) before
      and with them open, and the count that got 200.
"""
import socket
import ssl
import statistics
import sys
import threading
import time
import urllib.parse


def connect(url, ca):
    u = urllib.parse.urlparse(url)
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    s = socket.create_connection((u.hostname, u.port))
    return ctx.wrap_socket(s, server_hostname=u.hostname)


def request(s, path, token, accept="application/json"):
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Accept: %s\r\n\r\n" % (path, token, accept)).encode())


def read_headers(f):
    status = f.readline().split()
    while f.readline() not in (b"\r\n", b""):
        pass
    return int(status[1]) if len(status) > 1 else 0


def chunks(f):
    """The decoded body of a chunked response, piece by piece."""
    while True:
        line = f.readline()
        if not line:
            return
        n = int(line.split(b";")[0], 16)
        if n == 0:
            return
        data = f.read(n)
        f.readline()
        yield data


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def latency(url, token, ca, mnt, n):
    s = connect(url, ca)
    f = s.makefile("rb")
    table = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    request(s, "/api/v1/namespaces/default/configmaps?watch=true", token, table)
    if read_headers(f) != 200:
        sys.exit("watch refused")
    seen = {}
    cv = threading.Condition()

    def reader():
        buf = b""
        for c in chunks(f):
            now = time.monotonic()
            buf += c
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                i = line.find(b'"name":"bw-')
                if i >= 0 and line.startswith(b'{"type":"ADDED"'):
                    name = line[i + 8:line.index(b'"', i + 8)].decode()
                    with cv:
                        seen[name] = now
                        cv.notify_all()

    threading.Thread(target=reader, daemon=True).start()
    time.sleep(0.3)
    w, ev, after = [], [], []
    for i in range(n):
        name = "bw-%d" % i
        doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  k: v\n" % name
        t0 = time.monotonic()
        with open("%s/configmaps/%s.yaml" % (mnt, name), "w") as out:
            out.write(doc)
        t1 = time.monotonic()
        with cv:
            if not cv.wait_for(lambda: name in seen, timeout=5):
                sys.exit("no event for " + name)
            t2 = seen[name]
        w.append((t1 - t0) * 1000)
        ev.append((t2 - t0) * 1000)
        after.append(max(0.0, (t2 - t1) * 1000))
    print("write_ms %.2f %.2f" % (statistics.median(w), pct(w, 99)))
    print("event_ms %.2f %.2f %.2f" % (statistics.median(ev), pct(ev, 99), max(ev)))
    print("after_close_ms %.2f %.2f" % (statistics.median(after), pct(after, 99)))


def rss_kb(pid):
    with open("/proc/%s/status" % pid) as st:
        for line in st:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def idle(url, token, ca, pid, n):
    before = rss_kb(pid)
    socks, ok = [], 0
    for i in range(n):
        s = connect(url, ca)
        request(s, "/api/v1/pods?watch=true&resourceVersion=1&timeoutSeconds=600", token)
        f = s.makefile("rb")
        ok += read_headers(f) == 200
        socks.append((s, f))
    time.sleep(1)
    print("rss_kb_before %d" % before)
    print("rss_kb_with %d" % rss_kb(pid))
    print("watches_ok %d" % ok)
    for s, f in socks:
        s.close()


if __name__ == "__main__":
    if sys.argv[1] == "latency":
        latency(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
    else:
        idle(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]))
