"""The Python peer of hf-intake, for bench/run only: FastAPI + pydantic +
confluent-kafka, the stack the design documents name, doing the same work
per event as hf-intake's POST /v1/events for the two event types the
benchmark posts:

  bearer key -> api_clients (sha256, cached), validation with the schema's
  bounds (unknown fields refused), member ownership (cached), msgpack with the
  same fields and headers, produce with acks=all and enable.idempotence, and
  202 only once the broker has the record.

Run: uvicorn intake_peer:app --workers 2 (env HF_PG_URL, HF_KAFKA_BROKERS,
HF_TOPIC_PREFIX). Written idiomatically, not to lose: async handlers,
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

app = FastAPI()
producer = None
db = None
keys = {}    # sha256(key) -> client id
owners = {}  # member id -> client id


def delivery_thread(p):
    while True:
        p.poll(0.05)


@app.on_event("startup")
async def startup():
    global producer, db
    producer = Producer({"bootstrap.servers": os.environ["HF_KAFKA_BROKERS"], "acks": "all",
                         "enable.idempotence": True, "linger.ms": 2})
    threading.Thread(target=delivery_thread, args=(producer,), daemon=True).start()
    db = await psycopg.AsyncConnection.connect(os.environ["HF_PG_URL"], autocommit=True)


def error(status, code, message, field=""):
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message, "field": field}})


@app.post("/v1/events")
async def post_event(request: Request, authorization: str = Header(default="")):
    if not authorization.startswith("Bearer "):
        return error(401, "unauthorized", "missing bearer key")
    digest = hashlib.sha256(authorization[7:].encode()).digest()
    client = keys.get(digest)
    if client is None:
        row = await (await db.execute("SELECT id FROM api_clients WHERE key_hash = %s AND revoked_at IS NULL",
                                      (digest,))).fetchone()
        if not row:
            return error(401, "unauthorized", "unknown key")
        client = keys[digest] = row[0]
    try:
        ev = Event.validate_json(await request.body())
    except ValidationError as e:
        first = e.errors()[0]
        return error(400, "invalid", first["msg"], ".".join(str(x) for x in first["loc"][1:]))
    owner = owners.get(ev.member_id)
    if owner is None:
        row = await (await db.execute("SELECT u.client_id FROM members m JOIN users u ON u.id = m.user_id"
                                      " WHERE m.id = %s", (ev.member_id,))).fetchone()
        owner = owners[ev.member_id] = row[0] if row else -1
    if owner != client:
        return error(404, "not_found", "no such member", "member_id")
    event_id = str(ev.event_id or uuid.uuid4())
    fields = ev.model_dump(exclude_none=True, exclude={"type", "event_id"})
    occurred = fields["occurred_at"]
    fields["occurred_at"] = (occurred - EPOCH) // datetime.timedelta(microseconds=1)
    value = msgpack.packb({"event_id": event_id, **fields})
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def on_delivery(err, msg):
        loop.call_soon_threadsafe(done.set_result, err)

    producer.produce(TOPIC, key=str(ev.member_id), value=value, on_delivery=on_delivery,
                     headers=[("hf-schema", ev.type), ("hf-version", "1"), ("hf-event-id", event_id),
                              ("hf-client", str(client))])
    err = await done
    if err is not None:
        return error(503, "unavailable", str(err))
    return JSONResponse(status_code=202, content={"event_id": event_id})
