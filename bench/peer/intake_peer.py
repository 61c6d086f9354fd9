"""The Python peer of hf-intake, for bench/run only: FastAPI + pydantic +
confluent-kafka, the stack the design documents name, doing the same work
per event as hf-intake's POST /v1/events for the two event types the
benchmark posts:

  bearer key -> api_clients (sha256, cached), validation with the schema's
  bounds (unknown fields refused), member ownership (cached), the app's and
  the person's rate limits in Redis (one token-bucket script, as hf-intake),
  msgpack with the same fields and headers, produce with acks=all and
  enable.idempotence, and 202 only once the broker has the record. Batches
  (POST /v1/events/batch) as hf-intake: all valid or none sent, the app's
  budget charged once per batch.

Run: uvicorn intake_peer:app --workers 2 (env HF_PG_URL, HF_KAFKA_BROKERS,
HF_REDIS_URL, HF_TOPIC_PREFIX, HF_RATE_USER_WRITE_RPM, HF_INTAKE_CLIENT_RPM). Written idiomatically, not to lose: async handlers,
one producer per worker process, a delivery future per record.
"""
import asyncio
import datetime
import hashlib
import os
import threading
import uuid
from typing import Literal, Optional, Union

import msgpack
import psycopg
import redis.asyncio as aioredis
from confluent_kafka import Producer
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

TOPIC = os.environ.get("HF_TOPIC_PREFIX", "hf.") + "logs"
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class Nutrition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["log.nutrition"]
    event_id: Optional[uuid.UUID] = None
    member_id: int = Field(ge=1)
    program_id: Optional[int] = Field(default=None, ge=1)
    occurred_at: datetime.datetime
    meal: Optional[Literal["breakfast", "lunch", "dinner", "snack", "drink"]] = None
    calories: float = Field(ge=0, le=10000)
    protein_g: Optional[float] = Field(default=None, ge=0, le=1000)
    carbs_g: Optional[float] = Field(default=None, ge=0, le=2000)
    fat_g: Optional[float] = Field(default=None, ge=0, le=1000)
    fiber_g: Optional[float] = Field(default=None, ge=0, le=500)
    sugar_g: Optional[float] = Field(default=None, ge=0, le=1000)
    water_ml: Optional[float] = Field(default=None, ge=0, le=10000)


class Workout(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["log.workout"]
    event_id: Optional[uuid.UUID] = None
    member_id: int = Field(ge=1)
    program_id: Optional[int] = Field(default=None, ge=1)
    occurred_at: datetime.datetime
    activity: Literal["strength", "cardio", "yoga", "mobility", "sport", "walk", "other"]
    minutes: float = Field(ge=1, le=1440)
    intensity: Optional[Literal["low", "moderate", "high"]] = None


Event = TypeAdapter(Union[Nutrition, Workout])
Batch = TypeAdapter(list[Union[Nutrition, Workout]])

# The token bucket of common/hf_ratelimit.c: every bucket of a take refilled
# and checked, tokens taken only when all have enough.
TAKE = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000 + math.floor(tonumber(now_t[2]) / 1000)
local st, wait, refused = {}, 0, 0
for i = 1, #KEYS do
  local limit, window, n = tonumber(ARGV[3*i-2]), tonumber(ARGV[3*i-1]), tonumber(ARGV[3*i])
  local b = redis.call('HMGET', KEYS[i], 't', 's')
  local tokens, stamp = tonumber(b[1]), tonumber(b[2])
  if tokens == nil or stamp == nil then tokens = limit; stamp = now end
  if now > stamp then tokens = math.min(limit, tokens + (now - stamp) * limit / window); stamp = now end
  if tokens < n then
    if refused == 0 then refused = i end
    wait = math.max(wait, math.ceil((n - tokens) * window / limit - 1e-6))
  end
  st[i] = {tokens, stamp, window, n}
end
for i = 1, #KEYS do
  local tokens = st[i][1]
  if refused == 0 then tokens = tokens - st[i][4] end
  redis.call('HSET', KEYS[i], 't', string.format('%.17g', tokens), 's', st[i][2])
  redis.call('PEXPIRE', KEYS[i], 2 * st[i][3])
end
return {refused == 0 and 1 or 0, wait, refused}
"""
CLIENT_RPM = int(os.environ.get("HF_INTAKE_CLIENT_RPM", "600000"))
USER_WRITE_RPM = int(os.environ.get("HF_RATE_USER_WRITE_RPM", "60"))

app = FastAPI()
producer = None
db = None
rds = None
take = None
keys = {}    # sha256(key) -> client id
owners = {}  # member id -> client id


def delivery_thread(p):
    while True:
        p.poll(0.05)


@app.on_event("startup")
async def startup():
    global producer, db, rds, take
    producer = Producer({"bootstrap.servers": os.environ["HF_KAFKA_BROKERS"], "acks": "all",
                         "enable.idempotence": True, "linger.ms": 2})
    threading.Thread(target=delivery_thread, args=(producer,), daemon=True).start()
    db = await psycopg.AsyncConnection.connect(os.environ["HF_PG_URL"], autocommit=True)
    rds = aioredis.from_url(os.environ["HF_REDIS_URL"])
    take = rds.register_script(TAKE)


def error(status, code, message, field=""):
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message, "field": field}})


async def client_of(authorization):
    if not authorization.startswith("Bearer "):
        return None
    digest = hashlib.sha256(authorization[7:].encode()).digest()
    client = keys.get(digest)
    if client is None:
        row = await (await db.execute("SELECT id FROM api_clients WHERE key_hash = %s AND revoked_at IS NULL",
                                      (digest,))).fetchone()
        if not row:
            return None
        client = keys[digest] = row[0]
    return client


async def owner_of(member_id):
    owner = owners.get(member_id)
    if owner is None:
        row = await (await db.execute("SELECT u.client_id FROM members m JOIN users u ON u.id = m.user_id"
                                      " WHERE m.id = %s", (member_id,))).fetchone()
        owner = owners[member_id] = row[0] if row else -1
    return owner


async def limited(client, n, member_id=None):
    keys_, args = [f"hf:rl:client:{client}"], [CLIENT_RPM, 60000, n]
    if member_id is not None:
        keys_.append(f"hf:rl:user:{member_id}:write")
        args += [USER_WRITE_RPM, 60000, 1]
    allowed, _, _ = await take(keys=keys_, args=args)
    return allowed != 1


def send(ev, client):
    """Produces one validated event; returns (event_id, future of the broker's answer)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    event_id = str(ev.event_id or uuid.uuid4())
    fields = ev.model_dump(exclude_none=True, exclude={"type", "event_id"})
    fields["occurred_at"] = (fields["occurred_at"] - EPOCH) // datetime.timedelta(microseconds=1)
    value = msgpack.packb({"event_id": event_id, **fields})

    def on_delivery(err, msg):
        loop.call_soon_threadsafe(done.set_result, err)

    producer.produce(TOPIC, key=str(ev.member_id), value=value, on_delivery=on_delivery,
                     headers=[("hf-schema", ev.type), ("hf-version", "1"), ("hf-event-id", event_id),
                              ("hf-client", str(client))])
    return event_id, done


@app.post("/v1/events")
async def post_event(request: Request, authorization: str = Header(default="")):
    client = await client_of(authorization)
    if client is None:
        return error(401, "unauthorized", "send Authorization: Bearer <API key>")
    try:
        ev = Event.validate_json(await request.body())
    except ValidationError as e:
        first = e.errors()[0]
        return error(400, "invalid", first["msg"], ".".join(str(x) for x in first["loc"][1:]))
    if await owner_of(ev.member_id) != client:
        return error(404, "not_found", "no such member", "member_id")
    if await limited(client, 1, ev.member_id):
        return error(429, "rate_limited", "retry later")
    event_id, done = send(ev, client)
    err = await done
    if err is not None:
        return error(503, "unavailable", str(err))
    return JSONResponse(status_code=202, content={"event_id": event_id})


@app.post("/v1/events/batch")
async def post_batch(request: Request, authorization: str = Header(default="")):
    client = await client_of(authorization)
    if client is None:
        return error(401, "unauthorized", "send Authorization: Bearer <API key>")
    try:
        events = Batch.validate_json(await request.body())
    except ValidationError as e:
        first = e.errors()[0]
        return error(400, "invalid", first["msg"], ".".join(str(x) for x in first["loc"][1:]))
    if not events:
        return error(400, "invalid", "a batch must be a non-empty JSON array of events")
    if await limited(client, len(events)):
        return error(429, "rate_limited", "retry later")
    for ev in events:
        if await owner_of(ev.member_id) != client:
            return error(404, "not_found", "no such member", "member_id")
    sent = [send(ev, client) for ev in events]
    results = []
    for i, (event_id, done) in enumerate(sent):
        err = await done
        results.append({"index": i, "status": 202 if err is None else 503, "event_id": event_id})
    accepted = sum(r["status"] == 202 for r in results)
    return JSONResponse(status_code=202 if accepted == len(results) else 503,
                        content={"accepted": accepted, "rejected": len(results) - accepted, "results": results})
