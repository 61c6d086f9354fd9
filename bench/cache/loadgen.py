#!/usr/bin/env python3
"""Fixed-rate read-heavy load for bench/cache/run (standard library only).

Sends RATE requests a second for SECONDS seconds from a pool of threads, each
with its own keep-alive connection: READS percent are GETs of the cached
endpoints (adherence, predictions, insights: equal shares, members chosen
uniformly), the rest POST one log.nutrition event of the last hour. An
adherence read is the dashboard's last 7 days, or with HISTORY percent
chance one of the 4 weeks before (a person scrolling back).
Prints one JSON line: counts, read latency p50/p99 (ms), statuses.
"""
import http.client, json, sys, threading, time, random, queue

port, key, members_file, rate, seconds, reads_pct = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
history_pct = float(sys.argv[7]) if len(sys.argv) > 7 else 0.0
people = [tuple(map(int, l.split())) for l in open(members_file) if l.strip()]  # member program
jobs = queue.Queue()
lat, statuses, lock = [], {}, threading.Lock()
day = lambda back: time.strftime("%Y-%m-%d", time.gmtime(time.time() - back * 86400))

def worker():
    conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    hdr = {"Authorization": "Bearer " + key}
    while True:
        job = jobs.get()
        if job is None:
            return
        kind, member, program = job
        t0 = time.perf_counter()
        try:
            if kind == "read":
                which = random.randrange(3)
                back = 7 * random.randint(1, 4) if random.random() * 100 < history_pct else 0
                path = (f"/v1/programs/{program}/adherence?from={day(back + 6)}&to={day(back)}" if which == 0 else
                        f"/v1/members/{member}/predictions" if which == 1 else f"/v1/members/{member}/insights")
                conn.request("GET", path, headers=hdr)
            else:
                ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
                body = json.dumps({"type": "log.nutrition", "member_id": member, "program_id": program,
                                   "occurred_at": ts, "calories": random.randint(200, 900)})
                conn.request("POST", "/v1/events/batch", body="[" + body + "]",
                             headers=dict(hdr, **{"Content-Type": "application/json"}))
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except Exception:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
            status = 0
        dt = (time.perf_counter() - t0) * 1000
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            if kind == "read":
                lat.append(dt)

threads = [threading.Thread(target=worker, daemon=True) for _ in range(16)]
for t in threads:
    t.start()
start = time.perf_counter()
n = int(rate * seconds)
late = 0
for i in range(n):
    due = start + i / rate
    now = time.perf_counter()
    if due > now:
        time.sleep(due - now)
    elif now - due > 0.05:
        late += 1
    member, program = random.choice(people)
    jobs.put(("read" if random.random() * 100 < reads_pct else "write", member, program))
for _ in threads:
    jobs.put(None)
for t in threads:
    t.join()
lat.sort()
q = lambda p: round(lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else None
print(json.dumps({"requests": n, "reads": len(lat), "p50_ms": q(0.50), "p99_ms": q(0.99),
                  "late_sends": late, "statuses": statuses, "seconds": round(time.perf_counter() - start, 1)}))
