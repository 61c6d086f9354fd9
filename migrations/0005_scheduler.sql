-- The scheduler's records (scheduler/README.md). Writer: hf-scheduler, and
-- hfctl schedule fire (which only inserts 'recorded' firings). A "fleet" is
-- a topic prefix (HF_TOPIC_PREFIX): fleets sharing one database keep their
-- leaders and firings apart.

-- One row per fleet: who leads, until when. The leader renews it; another
-- replica takes it over once expires_at has passed. epoch counts changes of
-- holder (a fencing token for logs and metrics).
CREATE TABLE scheduler_leases (
    fleet       text PRIMARY KEY,
    holder      text NOT NULL,
    epoch       bigint NOT NULL DEFAULT 1,
    expires_at  timestamptz NOT NULL,
    renewed_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per firing, inserted BEFORE its jobs are produced; the id is the
-- schedule name and the scheduled instant in UTC ("nightly-retrain@2026-11-23T03:00:00Z")
-- and is the jobs' `trigger`, so their event ids are the same however often
-- the firing is produced. job and arg are copied from the schedule when
-- recorded, so a firing is produced as it was decided even if the file
-- changed since.
CREATE TABLE scheduler_firings (
    fleet        text NOT NULL,
    firing_id    text NOT NULL,
    schedule     text NOT NULL,
    scheduled_at timestamptz NOT NULL,
    local_date   date NOT NULL,     -- the firing's calendar date in its schedule's zone
    job          text NOT NULL,
    arg          integer NOT NULL DEFAULT 0,
    manual       boolean NOT NULL DEFAULT false,
    state        text NOT NULL DEFAULT 'recorded' CHECK (state IN ('recorded', 'produced')),
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    recorded_by  text NOT NULL,
    produced_at  timestamptz,
    produced_by  text,
    jobs         integer CHECK (jobs >= 0),
    PRIMARY KEY (fleet, firing_id)
);
CREATE INDEX scheduler_firings_pending ON scheduler_firings (fleet, scheduled_at) WHERE state = 'recorded';
CREATE INDEX scheduler_firings_schedule ON scheduler_firings (fleet, schedule, scheduled_at DESC);

-- How far each schedule has been decided: every fire time up to
-- decided_until was recorded, or dropped by its catch-up policy.
CREATE TABLE scheduler_state (
    fleet         text NOT NULL,
    schedule      text NOT NULL,
    decided_until timestamptz NOT NULL,
    missed        bigint NOT NULL DEFAULT 0,  -- fire times dropped by the catch-up policy, ever
    PRIMARY KEY (fleet, schedule)
);
