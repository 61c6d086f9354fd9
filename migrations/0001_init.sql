-- healthfleet's first schema, from the family-health design (001) with the
-- records the worker fleet needs. All times are timestamptz in UTC.

-- Apps that post events. The key itself is never stored: only its SHA-256,
-- and a prefix an operator can recognise.
CREATE TABLE api_clients (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    key_prefix    text NOT NULL,
    key_hash      bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    -- event types this app may post: exact names or "family.*" or "*"
    scopes        text[] NOT NULL DEFAULT '{*}',
    rate_limit_per_min integer CHECK (rate_limit_per_min > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    client_id     bigint NOT NULL REFERENCES api_clients (id),
    external_ref  text,
    email         text,
    password_hash text,
    role          text NOT NULL DEFAULT 'FAMILY_MANAGER' CHECK (role IN ('FAMILY_MANAGER', 'READ_ONLY')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    UNIQUE (client_id, external_ref)
);

-- A member is one person in a family; deleting a member deletes their data.
CREATE TABLE members (
    id            bigserial PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          text NOT NULL,
    relation_type text NOT NULL CHECK (relation_type IN ('SELF', 'SPOUSE', 'CHILD', 'PARENT', 'GRANDPARENT', 'OTHER')),
    dob           date,
    created_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE care_programs (
    id            bigserial PRIMARY KEY,
    member_id     bigint NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    title         text NOT NULL,
    start_date    date NOT NULL,
    end_date      date NOT NULL,
    status        text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'PAUSED', 'COMPLETED', 'CANCELLED')),
    phase         text NOT NULL DEFAULT 'FOUNDATION' CHECK (phase IN ('FOUNDATION', 'BUILD', 'MAINTAIN')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    -- programs run 90 days (001); a shorter or longer one is a data error
    CHECK (end_date = start_date + 89)
);
CREATE INDEX care_programs_member ON care_programs (member_id);

-- Goals, as documented in workers/adherence/README.md:
-- nutrition_goals {calories, calorie_tolerance_pct, protein_g_min, carbs_g_max,
-- fat_g_max, fiber_g_min, sugar_g_max, water_ml_min};
-- strength_goals {sessions_per_week, minutes_per_session}.
CREATE TABLE program_configs (
    id              bigserial PRIMARY KEY,
    program_id      bigint NOT NULL UNIQUE REFERENCES care_programs (id) ON DELETE CASCADE,
    nutrition_goals jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(nutrition_goals) = 'object'),
    strength_goals  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(strength_goals) = 'object'),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Every log the apps post, one table for all kinds (003's single events
-- table), partitioned by month of logged_at (001). PostgreSQL requires the
-- partition key in unique constraints, so event_id is unique per logged_at
-- here; the consumer runtime's processed_events claim is what makes a
-- repeated event_id a no-op whatever its timestamp.
CREATE TABLE daily_logs (
    id            bigint GENERATED ALWAYS AS IDENTITY,
    event_id      uuid NOT NULL,
    member_id     bigint NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    program_id    bigint REFERENCES care_programs (id) ON DELETE CASCADE,
    log_type      text NOT NULL CHECK (log_type IN ('NUTRITION', 'WORKOUT', 'SYMPTOM', 'CYCLE', 'BIOMETRIC', 'MEAL_PHOTO')),
    payload       jsonb NOT NULL,
    status        text NOT NULL DEFAULT 'VERIFIED' CHECK (status IN ('PROCESSING', 'VERIFIED', 'FAILED')),
    source_client bigint,
    logged_at     timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    deleted_at    timestamptz,
    PRIMARY KEY (id, logged_at),
    UNIQUE (event_id, logged_at)
) PARTITION BY RANGE (logged_at);
CREATE INDEX daily_logs_program_time ON daily_logs (program_id, logged_at DESC);
CREATE INDEX daily_logs_member_time ON daily_logs (member_id, logged_at DESC);

-- Creates the month partition holding `at` if it does not exist. Workers call
-- it when an insert finds no partition; the scheduler calls it ahead of time.
CREATE FUNCTION hf_ensure_log_partition(at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    first date := date_trunc('month', at AT TIME ZONE 'UTC')::date;
    name text := format('daily_logs_%s', to_char(first, 'YYYY_MM'));
BEGIN
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF daily_logs FOR VALUES FROM (%L) TO (%L)',
        name, first::timestamp AT TIME ZONE 'UTC', (first + interval '1 month')::timestamp AT TIME ZONE 'UTC');
    RETURN name;
END $$;

SELECT hf_ensure_log_partition(m)
FROM generate_series(date_trunc('month', now()) - interval '24 months',
                     date_trunc('month', now()) + interval '3 months', interval '1 month') AS m;

-- Derived, one row per program and day; recomputed, never incremented.
CREATE TABLE adherence_metrics (
    id          bigserial PRIMARY KEY,
    program_id  bigint NOT NULL REFERENCES care_programs (id) ON DELETE CASCADE,
    date        date NOT NULL,
    total_score numeric(5, 2) NOT NULL CHECK (total_score BETWEEN 0 AND 100),
    details     jsonb NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (program_id, date)
);

CREATE TABLE adherence_weekly (
    program_id  bigint NOT NULL REFERENCES care_programs (id) ON DELETE CASCADE,
    week_start  date NOT NULL,
    avg_score   numeric(5, 2) NOT NULL CHECK (avg_score BETWEEN 0 AND 100),
    days_logged integer NOT NULL CHECK (days_logged BETWEEN 0 AND 7),
    details     jsonb NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (program_id, week_start)
);

-- Who changed what, when. Append-only: updates and deletes are refused.
CREATE TABLE audit_logs (
    id              bigserial PRIMARY KEY,
    actor_id        text NOT NULL,
    target_resource text NOT NULL,
    action          text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    ip_address      inet,
    details         jsonb NOT NULL DEFAULT '{}'
);
CREATE FUNCTION hf_audit_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs is append-only';
END $$;
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION hf_audit_immutable();

-- The consumer runtime's idempotency record: one row per pool and event,
-- written in the same transaction as the event's effect.
CREATE TABLE processed_events (
    pool         text NOT NULL,
    event_id     uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pool, event_id)
);
CREATE INDEX processed_events_age ON processed_events (processed_at);
