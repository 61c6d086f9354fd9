-- Tables that one pool writes and others read. Each has one writer:
--   foods, food_aliases   meal-image pool loads the table (0003); the
--                         ingredient-scoring pool adds foods it fetches
--   ingredient_scores     ingredient-scoring pool; read by retraining (cold
--                         start), insights (text) and the intake's reads
--   user_models           retraining pool; hfctl model rollback
--   predictions           retraining pool; read by the intake's reads
--   user_insights         insights pool; read by the intake's reads
-- Owners add columns in their own migrations; nobody else writes here.

-- Nutrients per 100 g of a food, from USDA FoodData Central (fdc_id). One
-- table for the plate estimates and the ingredient scores, never two.
CREATE TABLE foods (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE CHECK (name = lower(name) AND length(name) BETWEEN 1 AND 80),
    fdc_id      integer UNIQUE,
    kcal        numeric(6, 1) NOT NULL CHECK (kcal BETWEEN 0 AND 900),
    protein_g   numeric(5, 2) NOT NULL CHECK (protein_g BETWEEN 0 AND 100),
    carbs_g     numeric(5, 2) NOT NULL CHECK (carbs_g BETWEEN 0 AND 100),
    fat_g       numeric(5, 2) NOT NULL CHECK (fat_g BETWEEN 0 AND 100),
    fiber_g     numeric(5, 2) NOT NULL DEFAULT 0 CHECK (fiber_g BETWEEN 0 AND 100),
    sugars_g    numeric(5, 2) NOT NULL DEFAULT 0 CHECK (sugars_g BETWEEN 0 AND 100),
    -- grams of one household unit: {"piece": 50, "slice": 28, "cup": 158}
    unit_grams  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(unit_grams) = 'object'),
    source      text NOT NULL CHECK (source IN ('table', 'usda', 'off')),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Other names of a food, already normalised ("greek yoghurt" -> greek yogurt).
CREATE TABLE food_aliases (
    alias   text PRIMARY KEY CHECK (alias = lower(alias) AND length(alias) BETWEEN 1 AND 80),
    food_id bigint NOT NULL REFERENCES foods (id) ON DELETE CASCADE
);
CREATE INDEX food_aliases_food ON food_aliases (food_id);

-- One row per normalised ingredient name; scores 0-100 by 002's rules.
CREATE TABLE ingredient_scores (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL UNIQUE CHECK (name = lower(name) AND length(name) BETWEEN 1 AND 80),
    food_id         bigint REFERENCES foods (id) ON DELETE SET NULL,
    blood_sugar     numeric(5, 2) NOT NULL CHECK (blood_sugar BETWEEN 0 AND 100),
    inflammation    numeric(5, 2) NOT NULL CHECK (inflammation BETWEEN 0 AND 100),
    gut             numeric(5, 2) NOT NULL CHECK (gut BETWEEN 0 AND 100),
    hormonal        numeric(5, 2) NOT NULL CHECK (hormonal BETWEEN 0 AND 100),
    overall         numeric(5, 2) NOT NULL CHECK (overall BETWEEN 0 AND 100),
    confidence      numeric(3, 2) NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    -- hormonal levels and sentence, which rules fired, with their 002 lines
    details         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    -- each source's raw answer and when it was fetched: {"usda": {...}, "off": {...}}
    sources         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(sources) = 'object'),
    fetched_at      timestamptz,
    scored_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingredient_scores_scored ON ingredient_scores (scored_at);

-- A trained model of one person and kind. The artifact is msgpack; its layout
-- is the retraining pool's (workers/retrain/README.md).
CREATE TABLE user_models (
    id          bigserial PRIMARY KEY,
    member_id   bigint NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('cycle', 'symptoms', 'energy', 'mood')),
    version     integer NOT NULL CHECK (version >= 1),
    algorithm   text NOT NULL,
    trained_at  timestamptz NOT NULL DEFAULT now(),
    samples     integer NOT NULL CHECK (samples >= 0),
    metrics     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metrics) = 'object'),
    artifact    bytea NOT NULL,
    active      boolean NOT NULL DEFAULT false,
    UNIQUE (member_id, kind, version)
);
-- At most one active model per person and kind, whatever the code does.
CREATE UNIQUE INDEX user_models_one_active ON user_models (member_id, kind) WHERE active;

-- What a model predicted; the newest row per (member, kind, target) is current.
CREATE TABLE predictions (
    id            bigserial PRIMARY KEY,
    member_id     bigint NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('cycle', 'symptoms', 'energy', 'mood')),
    target        text NOT NULL,      -- next_period, bloating, energy, ...
    model_id      bigint REFERENCES user_models (id) ON DELETE SET NULL,
    predicted_for date NOT NULL,
    value         jsonb NOT NULL,     -- the numbers, interval, confidence label
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX predictions_member ON predictions (member_id, kind, target, created_at DESC);

-- A person's current insights and the hash of the data they came from.
CREATE TABLE user_insights (
    member_id   bigint PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    data_hash   text NOT NULL,
    insights    jsonb NOT NULL CHECK (jsonb_typeof(insights) = 'object'),
    computed_at timestamptz NOT NULL DEFAULT now()
);
