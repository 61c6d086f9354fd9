"""The Python peer of hf-adherence, for bench/run only: confluent-kafka +
psycopg, doing what hf-adherence does for log.nutrition and log.workout, with
the same design (a fair peer: the same batching, only another language):

  poll up to BATCH messages; one transaction: claim the event ids in
  processed_events, insert the new logs (the same SQL), recompute every
  touched program day up to tomorrow (the same query, JIT off as hf_pg) and score it in Python with the
  rules of workers/adherence/adherence_score.c, upsert; commit; produce
  cache.invalidate per program week scored and wait for the broker; commit offsets.

usage: adherence_peer.py TOPIC GROUP EXPECTED   (env HF_PG_URL, HF_KAFKA_BROKERS,
HF_TOPIC_PREFIX) - exits once EXPECTED messages are processed, printing the
messages per second from its first message to its last commit.
"""
import datetime
import json
import os
import sys
import time

import msgpack
import psycopg
from confluent_kafka import Consumer, Producer

BATCH = 500
PARTS = [("calories", 0.35), ("protein", 0.25), ("carbs", 0.10), ("fat", 0.10), ("fiber", 0.10),
         ("sugar", 0.05), ("water", 0.05)]
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)

DAYS_SQL = """
SELECT d.program_id, d.day::text, c.nutrition_goals::text, c.strength_goals::text,
  d.day BETWEEN p.start_date AND p.end_date AND (d.day <= (now() AT TIME ZONE 'UTC')::date
   OR (d.day = (now() AT TIME ZONE 'UTC')::date + 1 AND n.meals > 0)),
  n.meals, n.calories, n.protein, n.carbs, n.fat, n.fiber, n.sugar, n.water, w.sessions, w.minutes
 FROM unnest(%s::bigint[], %s::date[]) AS d(program_id, day)
 JOIN care_programs p ON p.id = d.program_id AND p.deleted_at IS NULL
 LEFT JOIN program_configs c ON c.program_id = p.id
 CROSS JOIN LATERAL (SELECT count(*) AS meals,
   coalesce(sum((payload->>'calories')::float8), 0) AS calories,
   coalesce(sum((payload->>'protein_g')::float8), 0) AS protein,
   coalesce(sum((payload->>'carbs_g')::float8), 0) AS carbs,
   coalesce(sum((payload->>'fat_g')::float8), 0) AS fat,
   coalesce(sum((payload->>'fiber_g')::float8), 0) AS fiber,
   coalesce(sum((payload->>'sugar_g')::float8), 0) AS sugar,
   coalesce(sum((payload->>'water_ml')::float8), 0) AS water
   FROM daily_logs WHERE program_id = p.id AND log_type IN ('NUTRITION', 'MEAL_PHOTO') AND status = 'VERIFIED'
   AND deleted_at IS NULL AND logged_at >= d.day AND logged_at < d.day + 1) n
 CROSS JOIN LATERAL (SELECT count(*) AS sessions, coalesce(sum((payload->>'minutes')::float8), 0) AS minutes
   FROM daily_logs WHERE program_id = p.id AND log_type = 'WORKOUT' AND status = 'VERIFIED'
   AND deleted_at IS NULL AND logged_at >= d.day - 6 AND logged_at < d.day + 1) w
"""


def positive(obj, key):
    v = obj.get(key)
    return v if isinstance(v, (int, float)) and v > 0 else 0


def clamp01(x):
    return max(0.0, min(1.0, x))


def score(ng, sg, d):
    tol = positive(ng, "calorie_tolerance_pct")
    tol = 10 if tol == 0 or tol >= 50 else tol
    goals = [positive(ng, "calories"), positive(ng, "protein_g_min"), positive(ng, "carbs_g_max"),
             positive(ng, "fat_g_max"), positive(ng, "fiber_g_min"), positive(ng, "sugar_g_max"),
             positive(ng, "water_ml_min")]
    actual = [d["calories"], d["protein"], d["carbs"], d["fat"], d["fiber"], d["sugar"], d["water"]]
    nsum = nweight = 0.0
    nparts = {}
    for i, (name, weight) in enumerate(PARTS):
        goal = goals[i]
        if goal <= 0:
            continue
        if i == 0:
            off = abs(actual[i] - goal) / goal
            s, rule = (1.0 if off <= tol / 100 else clamp01(1 - (off - tol / 100) / (0.5 - tol / 100))), "within tolerance"
        elif i in (2, 3, 5):
            s, rule = (1.0 if actual[i] <= goal else clamp01(1 - (actual[i] - goal) / goal)), "at most"
        else:
            s, rule = clamp01(actual[i] / goal), "at least"
        if d["meals"] == 0:
            s = 0.0
        nsum += s * weight
        nweight += weight
        nparts[name] = {"actual": round(actual[i], 2), "goal": goal, "rule": rule, "score": round(s * 100, 2)}
    spw, mps = positive(sg, "sessions_per_week"), positive(sg, "minutes_per_session")
    has_n, has_s = nweight > 0, spw > 0
    nscore = nsum / nweight if has_n else 0.0
    sscore = 0.0
    if has_s:
        sess = clamp01(d["sessions"] / spw)
        sscore = (sess + clamp01(d["minutes"] / (spw * mps))) / 2 if mps > 0 else sess
    total = (0.6 * nscore + 0.4 * sscore) if has_n and has_s else (nscore if has_n else sscore)
    total = round(total * 100, 2)
    details = {"total_score": total, "meals": d["meals"], "sessions_7d": d["sessions"]}
    if has_n:
        details["nutrition"] = {"score": round(nscore * 100, 2), "share": 0.6 if has_s else 1.0, "parts": nparts}
    if has_s:
        details["strength"] = {"score": round(sscore * 100, 2), "share": 0.4 if has_n else 1.0}
    return total, details


def main():
    topic, group, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    prefix = os.environ.get("HF_TOPIC_PREFIX", "hf.")
    consumer = Consumer({"bootstrap.servers": os.environ["HF_KAFKA_BROKERS"], "group.id": group,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    producer = Producer({"bootstrap.servers": os.environ["HF_KAFKA_BROKERS"], "acks": "all",
                         "enable.idempotence": True, "linger.ms": 2})
    consumer.subscribe([topic])
    # As hf_pg: no JIT (compiling the day query cost seconds), and UTC days.
    db = psycopg.connect(os.environ["HF_PG_URL"], options="-c jit=off -c timezone=UTC")
    done, first = 0, None
    while done < expected:
        msgs = [m for m in consumer.consume(BATCH, timeout=0.1) if not m.error()]
        if not msgs:
            continue
        first = first or time.monotonic()
        events = []
        for m in msgs:
            headers = dict(m.headers() or [])
            doc = msgpack.unpackb(m.value())
            events.append((headers.get("hf-schema", b"").decode(), doc, int(headers.get("hf-client", b"0"))))
        with db.transaction():
            ids = [e[1]["event_id"] for e in events]
            fresh = {r[0] for r in db.execute(
                "INSERT INTO processed_events (pool, event_id) SELECT 'peer', unnest(%s::uuid[])"
                " ON CONFLICT DO NOTHING RETURNING event_id::text", (ids,))}
            rows, days = [], set()
            tomorrow = datetime.datetime.now(datetime.timezone.utc).date() + datetime.timedelta(days=1)
            for schema, doc, client in events:
                if doc["event_id"] not in fresh:
                    continue
                at = EPOCH + datetime.timedelta(microseconds=doc["occurred_at"])
                payload = {k: v for k, v in doc.items() if k != "event_id"}
                payload["occurred_at"] = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                rows.append({"event_id": doc["event_id"], "member_id": doc["member_id"],
                             "program_id": doc.get("program_id"),
                             "log_type": "NUTRITION" if schema == "log.nutrition" else "WORKOUT",
                             "payload": payload, "source_client": client or None, "logged_at": at.isoformat()})
                if doc.get("program_id"):
                    day = at.date()
                    span = 1 if schema == "log.nutrition" else 7
                    for i in range(span):
                        if day + datetime.timedelta(days=i) <= tomorrow:  # later days are never scored
                            days.add((doc["program_id"], day + datetime.timedelta(days=i)))
            db.execute("SELECT hf_ensure_log_partition(t) FROM unnest(%s::timestamptz[]) t",
                       (sorted({r["logged_at"] for r in rows}),))
            db.execute(
                "INSERT INTO daily_logs (event_id, member_id, program_id, log_type, payload, source_client, logged_at)"
                " SELECT r.event_id, r.member_id, r.program_id, r.log_type, r.payload, r.source_client, r.logged_at"
                " FROM jsonb_to_recordset(%s::jsonb) AS r(event_id uuid, member_id bigint, program_id bigint,"
                " log_type text, payload jsonb, source_client bigint, logged_at timestamptz)"
                " ON CONFLICT (event_id, logged_at) DO NOTHING", (json.dumps(rows),))
            scored = []
            if days:
                keys = sorted(days)
                for r in db.execute(DAYS_SQL, ([k[0] for k in keys], [k[1] for k in keys])):
                    if not r[4]:
                        continue
                    d = dict(zip(["meals", "calories", "protein", "carbs", "fat", "fiber", "sugar", "water",
                                  "sessions", "minutes"], r[5:]))
                    total, details = score(json.loads(r[2] or "{}"), json.loads(r[3] or "{}"), d)
                    scored.append({"program_id": r[0], "date": r[1], "total_score": total, "details": details})
                db.execute(
                    "INSERT INTO adherence_metrics (program_id, date, total_score, details)"
                    " SELECT r.program_id, r.date, r.total_score, r.details FROM jsonb_to_recordset(%s::jsonb)"
                    " AS r(program_id bigint, date date, total_score numeric, details jsonb)"
                    " ON CONFLICT (program_id, date) DO UPDATE SET total_score = EXCLUDED.total_score,"
                    " details = EXCLUDED.details, computed_at = now()"
                    " WHERE adherence_metrics.total_score IS DISTINCT FROM EXCLUDED.total_score"
                    " OR adherence_metrics.details IS DISTINCT FROM EXCLUDED.details", (json.dumps(scored),))
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        weeks = set()
        for s in scored:  # the cache keeps adherence per program week (Monday to Sunday)
            day = datetime.date.fromisoformat(s["date"])
            weeks.add((s["program_id"], (day - datetime.timedelta(days=day.weekday())).isoformat()))
        for program, monday in sorted(weeks):
            producer.produce(prefix + "cache.invalidate", key=str(program),
                             value=msgpack.packb({"entity": "program", "entity_id": program,
                                                  "kind": "adherence", "date": monday, "at": now}))
        producer.flush()
        consumer.commit(asynchronous=False)
        done += len(msgs)
    elapsed = time.monotonic() - first
    print(json.dumps({"messages": done, "seconds": round(elapsed, 3), "per_second": round(done / elapsed, 1)}))
    consumer.close()


if __name__ == "__main__":
    main()
