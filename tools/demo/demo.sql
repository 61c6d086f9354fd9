-- The demo's data, all of it, from one fixed seed: families, members, care
-- programs with their goals (written to PostgreSQL), then a week of the
-- events their apps would post (written to a file for hf-loadgen, one request
-- a line: "E <event>" or "B <array of events>"). Run by tools/demo/run:
--
--   psql -v client_id=N -v other_client_id=M -v tag=T -v out=FILE -f demo.sql
--
-- client_id owns the families; other_client_id gets one family of its own, so
-- the stream can post for a member that is not the caller's. tag makes the
-- users' external_ref unique per run. Optional: -v users=40 -v days=7
-- -v seed=0.2026.
--
-- Repeatable: setseed() fixes random(); every random() below is evaluated in
-- a fixed order (scans of generate_series and of temp tables in id order, no
-- parallel plans), so two runs differ only in ids and in "now".
\set ON_ERROR_STOP 1
\if :{?users}
\else
  \set users 40
\endif
\if :{?days}
\else
  \set days 7
\endif
\if :{?seed}
\else
  \set seed 0.2026
\endif
SET max_parallel_workers_per_gather = 0;
SET client_min_messages = warning;
SELECT setseed(:seed) \gset

BEGIN;

-- ---------- helpers ----------

CREATE TEMP TABLE d_pick (list text, i int, v text, PRIMARY KEY (list, i));
INSERT INTO d_pick
SELECT list, ord::int, v FROM (VALUES
  ('surname', ARRAY['Garcia','Nguyen','Okafor','Schmidt','Rossi','Kowalski','Tanaka','Silva','Dubois','Haddad',
                    'Johansson','Murphy','Patel','Kim','Novak','Moreau','Costa','Fischer','Ivanova','Mendes']),
  ('female',  ARRAY['Anna','Maria','Sofia','Emma','Lea','Amara','Yuki','Ines','Chloe','Nadia','Olivia','Zara',
                    'Hana','Eva','Lucia','Mei','Freya','Aisha','Clara','Noor']),
  ('male',    ARRAY['Liam','Noah','Mateo','Lucas','Kenji','Omar','Elias','Jonas','Tomas','Ravi','Leo','Samuel',
                    'Marco','David','Felix','Arjun','Hugo','Yusuf','Jan','Theo']),
  ('source',  ARRAY['oura','fitbit','apple_health','garmin','withings','google_fit']),
  ('breakfast', ARRAY['oatmeal:60','greek yogurt:170','banana:120','scrambled eggs:110','whole wheat toast:70','blueberries:80',
                      'granola:50','avocado:70','orange juice:250','peanut butter:30','milk:200','chia seeds:15']),
  ('lunch', ARRAY['chicken breast:150','brown rice:180','mixed salad:120','lentil soup:300','turkey sandwich:220','quinoa:160',
                    'tuna:120','hummus:60','apple:180','whole wheat wrap:70','feta cheese:40','chickpeas:130','tomato:120']),
  ('dinner', ARRAY['salmon:160','sweet potato:200','broccoli:120','pasta:200','tomato sauce:120','beef stir-fry:250','tofu:150',
                    'white rice:180','green beans:100','chicken thighs:170','spinach:80','black beans:130','mushrooms:90','cod:170']),
  ('snack', ARRAY['almonds:30','apple:180','protein bar:60','cheddar:40','dark chocolate:25','carrot sticks:100','rice cakes:20',
                    'cottage cheese:150','walnuts:30','pear:170']),
  ('drink', ARRAY['coffee with milk:250','green tea:300','orange juice:250','smoothie:350','sparkling water:330','latte:300','kombucha:330']),
  ('title_adult',  ARRAY['Healthy eating foundations','Strength and energy','Weight management',
                         'Gut health reset','Heart-healthy habits']),
  ('title_female', ARRAY['Cycle-aware nutrition','Healthy eating foundations','Strength and energy']),
  ('title_parent', ARRAY['Active ageing','Heart-healthy habits','Bone strength']),
  ('title_child',  ARRAY['Growing strong','Family meals','Active kids'])
) AS l(list, arr), unnest(arr) WITH ORDINALITY AS u(v, ord);

-- A random value of list l (random() drawn once, not once per row scanned).
CREATE FUNCTION pg_temp.pick(l text) RETURNS text LANGUAGE sql VOLATILE AS $$
  SELECT v FROM d_pick WHERE list = l
   AND i = (SELECT 1 + floor(random() * count(*))::int FROM d_pick WHERE list = l)
$$;
-- A uniform random whole number in lo..hi.
CREATE FUNCTION pg_temp.rint(lo int, hi int) RETURNS int LANGUAGE sql VOLATILE AS $$
  SELECT lo + floor(random() * (hi - lo + 1))::int
$$;
-- Approximately normal (sum of uniforms), mean 0, sd 1.
CREATE FUNCTION pg_temp.gauss() RETURNS float8 LANGUAGE sql VOLATILE AS $$
  SELECT (random() + random() + random() + random() + random() + random() - 3) * sqrt(2.0)
$$;
CREATE FUNCTION pg_temp.ts(t timestamp) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT to_char(t, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- Today and "now" in UTC, as timestamps without zone (the fleet's days are UTC days).
CREATE TEMP TABLE d_now AS
SELECT (now() AT TIME ZONE 'UTC')::date AS today, (now() AT TIME ZONE 'UTC')::timestamp - interval '2 minutes' AS now;

-- ---------- families ----------

CREATE TEMP TABLE d_users AS
SELECT n, pg_temp.pick('surname') AS surname, pg_temp.rint(2, 4) AS size, random() < 0.5 AS self_female,
       pg_temp.rint(27, 58) AS self_age
FROM generate_series(1, :users) AS n ORDER BY n;

INSERT INTO users (client_id, external_ref, email, role)
SELECT :client_id, :'tag' || '-u' || n, lower(surname) || '.' || n || '@' || :'tag' || '.demo.example', 'FAMILY_MANAGER'
FROM d_users ORDER BY n;

CREATE TEMP TABLE d_slots AS
SELECT u.n AS user_n, k, u.surname, u.self_female, u.self_age,
       CASE WHEN k = 1 THEN 'SELF'
            WHEN k = 2 AND random() < 0.8 THEN 'SPOUSE'
            WHEN u.self_age >= 45 AND random() < 0.35 THEN 'PARENT'
            ELSE 'CHILD' END AS relation
FROM d_users u, generate_series(1, u.size) AS k ORDER BY u.n, k;

-- Per person: who they are and the habits that make a week of logs look like
-- theirs. Every random() of the seed is drawn here or in another scan of a
-- temp table in a fixed order, never in a join with a real table (whose plan,
-- and so the order of the draws, can change as the table grows).
CREATE TEMP TABLE d_people AS
SELECT row_number() OVER (ORDER BY user_n, k) AS ord, s.*,
       CASE relation WHEN 'SELF' THEN self_female WHEN 'SPOUSE' THEN NOT self_female ELSE random() < 0.5 END AS female,
       CASE relation WHEN 'SELF' THEN self_age WHEN 'SPOUSE' THEN greatest(22, self_age + pg_temp.rint(-5, 5))
                     WHEN 'PARENT' THEN self_age + pg_temp.rint(22, 32) ELSE pg_temp.rint(4, 17) END AS age,
       pg_temp.rint(0, 364) AS birthday,
       random() < 0.85 AS has_program,
       0.55 + 0.45 * random() AS diligence,          -- how closely they follow the plan
       0.70 + 0.30 * random() AS log_rate,           -- share of meals they remember to log
       0.14 + 0.10 * random() AS protein_share,      -- of calories
       0.40 + 0.15 * random() AS carb_share,
       0.8 + 0.7 * random() AS fiber_per_100kcal,
       random() < 0.75 AS wearable, pg_temp.pick('source') AS wearable_source,
       random() < 0.5 AS weighs,
       25 * random() AS weight_extra,
       random() < 0.5 AS logs_symptoms,
       pg_temp.rint(26, 32) AS cycle_len, random() AS cycle_pos,
       random() < 0.5 AS charts_temp,
       random() < 0.6 AS logs_drinks
FROM d_slots s ORDER BY user_n, k;
ALTER TABLE d_people ADD COLUMN first_name text;
UPDATE d_people SET first_name = pg_temp.pick(CASE WHEN female THEN 'female' ELSE 'male' END);

INSERT INTO members (user_id, name, relation_type, dob)
SELECT u.id, p.first_name || ' ' || p.surname, p.relation, n.today - p.age * 365 - p.birthday
FROM d_people p JOIN users u ON u.client_id = :client_id AND u.external_ref = :'tag' || '-u' || p.user_n, d_now n
ORDER BY p.ord;

CREATE TEMP TABLE d_members AS
SELECT m.id AS member_id, m.name, p.ord, p.relation, p.female, p.age, p.has_program, p.diligence, p.log_rate,
       p.protein_share, p.carb_share, p.fiber_per_100kcal, p.wearable, p.wearable_source,
       p.age >= 18 AND p.weighs AS weighs,
       CASE WHEN p.age < 18 THEN 12 + p.age * 3.2 WHEN p.female THEN 58 + p.weight_extra ELSE 72 + p.weight_extra
       END::numeric AS weight0,
       p.logs_symptoms, p.female AND p.age BETWEEN 13 AND 50 AS cycles, p.cycle_len, p.cycle_pos, p.charts_temp,
       p.logs_drinks
FROM members m JOIN users u ON u.id = m.user_id JOIN d_people p ON u.external_ref = :'tag' || '-u' || p.user_n
     AND p.k = (SELECT count(*) FROM members m2 WHERE m2.user_id = m.user_id AND m2.id <= m.id)
WHERE u.client_id = :client_id
ORDER BY p.ord;
CREATE UNIQUE INDEX ON d_members (member_id);

-- ---------- programs and goals ----------

CREATE TEMP TABLE d_programs AS
SELECT member_id, pg_temp.rint(10, 60) AS started_days_ago,
       CASE WHEN relation = 'CHILD' THEN pg_temp.pick('title_child')
            WHEN relation = 'PARENT' THEN pg_temp.pick('title_parent')
            WHEN female AND cycles AND random() < 0.5 THEN pg_temp.pick('title_female')
            ELSE pg_temp.pick('title_adult') END AS title,
       (50 * round(CASE WHEN age < 18 THEN 1600 + 400 * random()
                        WHEN relation = 'PARENT' THEN 1600 + 500 * random()
                        WHEN female THEN 1700 + 500 * random()
                        ELSE 2000 + 600 * random() END / 50))::int AS calories,
       pg_temp.rint(2, 5) AS sessions_per_week, 5 * pg_temp.rint(6, 12) AS minutes_per_session,
       pg_temp.rint(25, 35) AS fiber_g_min
FROM d_members WHERE has_program ORDER BY ord;

INSERT INTO care_programs (member_id, title, start_date, end_date, status, phase)
SELECT member_id, title, today - started_days_ago, today - started_days_ago + 89, 'ACTIVE',
       CASE WHEN started_days_ago < 30 THEN 'FOUNDATION' ELSE 'BUILD' END
FROM d_programs, d_now ORDER BY member_id;

ALTER TABLE d_programs ADD COLUMN program_id bigint;
UPDATE d_programs d SET program_id = p.id FROM care_programs p WHERE p.member_id = d.member_id;

INSERT INTO program_configs (program_id, nutrition_goals, strength_goals)
SELECT program_id,
       jsonb_build_object('calories', calories, 'calorie_tolerance_pct', 10,
                          'protein_g_min', 5 * round(calories * 0.20 / 4 / 5),
                          'carbs_g_max', 5 * round(calories * 0.50 / 4 / 5),
                          'fat_g_max', 5 * round(calories * 0.33 / 9 / 5),
                          'fiber_g_min', fiber_g_min),
       jsonb_build_object('sessions_per_week', sessions_per_week, 'minutes_per_session', minutes_per_session)
FROM d_programs ORDER BY program_id;

-- One family of another client: the stream posts one of its members by mistake.
INSERT INTO users (client_id, external_ref, email) VALUES (:other_client_id, :'tag' || '-other', 'other@' || :'tag' || '.demo.example');
INSERT INTO members (user_id, name, relation_type)
SELECT id, 'Not Yours', 'SELF' FROM users WHERE client_id = :other_client_id AND external_ref = :'tag' || '-other';
CREATE TEMP TABLE d_other AS
SELECT m.id AS member_id FROM members m JOIN users u ON u.id = m.user_id
WHERE u.client_id = :other_client_id AND u.external_ref = :'tag' || '-other';

COMMIT;

-- ---------- a week of events ----------

-- Per member and day: how much they ate relative to the goal, and whether they trained.
CREATE TEMP TABLE d_days AS
SELECT m.member_id, p.program_id, d AS day_n, n.today - d AS day,
       coalesce(p.calories, CASE WHEN m.age < 18 THEN 1800 WHEN m.female THEN 1900 ELSE 2400 END)
         * (1 + (1 - m.diligence) * 0.5 * (CASE WHEN m.ord % 3 = 0 THEN -1 ELSE 1 END)
              + 0.08 * pg_temp.gauss()) AS kcal,
       random() < coalesce(p.sessions_per_week, 2) / 7.0 * (0.5 + m.diligence * 0.6) AS trains
FROM d_members m LEFT JOIN d_programs p USING (member_id), d_now n, generate_series(:days - 1, 0, -1) AS d
ORDER BY m.ord, d DESC;

CREATE TEMP TABLE d_events (seq bigserial, at timestamp NOT NULL, member_id bigint, kind text, ev jsonb);

-- Meals: breakfast, lunch, dinner, a snack some days, drinks for some members.
CREATE TEMP TABLE d_meals AS
SELECT dd.member_id, dd.program_id, dd.day, meal, m.protein_share, m.carb_share, m.fiber_per_100kcal,
       dd.day + (CASE meal WHEN 'breakfast' THEN time '06:30' WHEN 'lunch' THEN time '11:45'
                           WHEN 'dinner' THEN time '18:00' WHEN 'snack' THEN time '15:00' ELSE time '09:00' END)
              + random() * (CASE meal WHEN 'drink' THEN interval '8 hours' ELSE interval '2 hours' END) AS at,
       dd.kcal * CASE meal WHEN 'breakfast' THEN 0.25 WHEN 'lunch' THEN 0.33 WHEN 'dinner' THEN 0.32
                           WHEN 'snack' THEN 0.10 ELSE 0.03 END * (0.85 + 0.3 * random()) AS kcal,
       pg_temp.rint(CASE WHEN meal IN ('snack', 'drink') THEN 1 ELSE 2 END,
                    CASE WHEN meal IN ('snack', 'drink') THEN 1 ELSE 4 END) AS n_items,
       random() AS logged
FROM d_days dd JOIN d_members m USING (member_id),
     LATERAL unnest(CASE WHEN m.logs_drinks THEN ARRAY['breakfast','drink','lunch','snack','dinner','drink']
                         ELSE ARRAY['breakfast','lunch','snack','dinner'] END) WITH ORDINALITY AS x(meal, o)
WHERE meal <> 'snack' OR random() < 0.45
ORDER BY dd.member_id, dd.day, x.o;
DELETE FROM d_meals m USING d_members dm WHERE dm.member_id = m.member_id AND m.logged > dm.log_rate;

ALTER TABLE d_meals ADD COLUMN items jsonb;
UPDATE d_meals m SET items = (
  SELECT jsonb_agg(jsonb_build_object('name', split_part(v, ':', 1),
                                      'grams', 5 * round(split_part(v, ':', 2)::int * (0.6 + 0.9 * random()) / 5))
                   ORDER BY r)
  FROM (SELECT v, random() AS r FROM d_pick WHERE list = m.meal ORDER BY r LIMIT m.n_items) s);

INSERT INTO d_events (at, member_id, kind, ev)
SELECT at, member_id, 'log.nutrition', jsonb_strip_nulls(jsonb_build_object(
         'type', 'log.nutrition', 'member_id', member_id, 'program_id', program_id, 'occurred_at', pg_temp.ts(at),
         'meal', meal, 'calories', round(kcal::numeric),
         'protein_g', round((kcal * protein_share * (0.8 + 0.4 * random()) / 4)::numeric, 1),
         'carbs_g', round((kcal * carb_share * (0.8 + 0.4 * random()) / 4)::numeric, 1),
         'fat_g', round((kcal * (1 - protein_share - carb_share) * (0.8 + 0.4 * random()) / 9)::numeric, 1),
         'fiber_g', round((kcal / 100 * fiber_per_100kcal * (0.6 + 0.8 * random()))::numeric, 1),
         'sugar_g', round((kcal * carb_share / 4 * (0.15 + 0.25 * random()))::numeric, 1),
         'water_ml', CASE WHEN meal = 'drink' THEN 50 * pg_temp.rint(4, 10) END,
         'items', items))
FROM d_meals ORDER BY member_id, at;

-- Workouts: strength mostly, for people with a program; the rest move as they like.
INSERT INTO d_events (at, member_id, kind, ev)
SELECT at, member_id, 'log.workout', jsonb_strip_nulls(jsonb_build_object(
         'type', 'log.workout', 'member_id', member_id, 'program_id', program_id, 'occurred_at', pg_temp.ts(at),
         'activity', activity, 'minutes', minutes, 'intensity', (ARRAY['low','moderate','high'])[pg_temp.rint(1, 3)],
         'sets', CASE WHEN activity = 'strength' THEN pg_temp.rint(8, 20) END,
         'reps', CASE WHEN activity = 'strength' THEN 8 * pg_temp.rint(10, 25) END,
         'weight_kg', CASE WHEN activity = 'strength' THEN 2.5 * pg_temp.rint(4, 32) END,
         'calories_burned', round(minutes * (4 + 5 * random()))))
FROM (SELECT dd.member_id, dd.program_id,
             dd.day + CASE WHEN random() < 0.5 THEN time '06:00' ELSE time '17:00' END + random() * interval '3 hours' AS at,
             CASE WHEN dd.program_id IS NOT NULL AND random() < 0.7 THEN 'strength'
                  ELSE (ARRAY['cardio','yoga','mobility','sport','walk'])[pg_temp.rint(1, 5)] END AS activity,
             greatest(10, round(coalesce(p.minutes_per_session, 40) * (0.7 + 0.55 * random())))::int AS minutes
      FROM d_days dd LEFT JOIN d_programs p USING (member_id) WHERE dd.trains ORDER BY dd.member_id, dd.day) w
ORDER BY member_id, at;

-- Cycles: where each member's period falls in the window.
CREATE TEMP TABLE d_cycles AS
SELECT member_id, cycle_len, n.today - floor(cycle_pos * cycle_len)::int AS last_start, pg_temp.rint(4, 6) AS length
FROM d_members, d_now n WHERE cycles ORDER BY member_id;

CREATE FUNCTION pg_temp.phase(member bigint, day date) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN c.member_id IS NULL THEN NULL
              WHEN x < c.length THEN 'menstrual' WHEN x < c.cycle_len / 2 - 1 THEN 'follicular'
              WHEN x <= c.cycle_len / 2 + 1 THEN 'ovulation' ELSE 'luteal' END
  FROM (SELECT 1) one LEFT JOIN d_cycles c ON c.member_id = member,
       LATERAL (SELECT ((day - c.last_start) % c.cycle_len + c.cycle_len) % c.cycle_len AS x) xx
$$;

INSERT INTO d_events (at, member_id, kind, ev)
SELECT at, member_id, 'cycle.period', jsonb_strip_nulls(jsonb_build_object(
         'type', 'cycle.period', 'member_id', member_id, 'occurred_at', pg_temp.ts(at),
         'start_date', last_start, 'end_date', CASE WHEN last_start + length - 1 < n.today THEN last_start + length - 1 END,
         'flow', (ARRAY['light','medium','medium','heavy'])[pg_temp.rint(1, 4)]))
FROM (SELECT c.*, greatest(c.last_start, n.today - (:days - 1)) + time '08:00' + random() * interval '3 hours' AS at
      FROM d_cycles c, d_now n WHERE c.last_start > n.today - :days - 3 ORDER BY member_id) c, d_now n
ORDER BY member_id;

-- Symptoms, in the evening, with what was eaten that day (the symptom predictor's input).
INSERT INTO d_events (at, member_id, kind, ev)
SELECT at, member_id, 'log.symptom', jsonb_strip_nulls(jsonb_build_object(
         'type', 'log.symptom', 'member_id', member_id, 'occurred_at', pg_temp.ts(at),
         'symptoms', jsonb_strip_nulls(jsonb_build_object(
            'energy', pg_temp.rint(1, 5), 'mood', pg_temp.rint(1, 5), 'focus', pg_temp.rint(1, 5),
            'sleep_quality', pg_temp.rint(1, 5), 'stress', pg_temp.rint(0, 4),
            'bloating', CASE WHEN random() < 0.4 THEN pg_temp.rint(1, 4) END,
            'headache', CASE WHEN random() < 0.2 THEN pg_temp.rint(1, 3) END,
            'cramps', CASE WHEN phase = 'menstrual' THEN pg_temp.rint(1, 5) END,
            'nausea', CASE WHEN random() < 0.05 THEN pg_temp.rint(1, 2) END)),
         'ingredients', (SELECT jsonb_agg(DISTINCT i->>'name') FROM d_meals ml, jsonb_array_elements(ml.items) i
                         WHERE ml.member_id = s.member_id AND ml.day = s.day),
         'cycle_phase', phase))
FROM (SELECT dd.member_id, dd.day, dd.day + time '20:30' + random() * interval '2 hours' AS at,
             pg_temp.phase(dd.member_id, dd.day) AS phase
      FROM d_days dd JOIN d_members m USING (member_id)
      WHERE m.logs_symptoms AND random() < 0.85 ORDER BY dd.member_id, dd.day) s
ORDER BY member_id, at;

-- Biometrics: wearables (steps, sleep, resting heart rate), scales, thermometers.
INSERT INTO d_events (at, member_id, kind, ev)
SELECT at, member_id, 'biometric.reading', jsonb_build_object(
         'type', 'biometric.reading', 'member_id', member_id, 'occurred_at', pg_temp.ts(at), 'kind', kind,
         'value', value, 'source', source)
FROM (SELECT dd.member_id, k.kind, k.source, k.at, k.value
      FROM d_days dd JOIN d_members m USING (member_id), d_now n,
      LATERAL (VALUES
        ('steps', m.wearable_source, dd.day + time '23:50',
         CASE WHEN m.wearable THEN round(1000 * (4 + 6 * m.diligence + 3 * pg_temp.gauss()))::numeric END),
        ('sleep_hours', m.wearable_source, dd.day + time '06:45' + random() * interval '1 hour',
         CASE WHEN m.wearable THEN round((7.2 + 0.9 * pg_temp.gauss())::numeric, 1) END),
        ('hrv_ms', m.wearable_source, dd.day + time '07:00' + random() * interval '1 hour',
         CASE WHEN m.wearable THEN round((55 - 0.4 * m.age + 10 * m.diligence + 8 * pg_temp.gauss())::numeric) END),
        ('resting_hr_bpm', m.wearable_source, dd.day + time '07:00' + random() * interval '1 hour',
         CASE WHEN m.wearable THEN round((62 + 4 * pg_temp.gauss() + CASE WHEN m.age < 18 THEN 12 ELSE 0 END)::numeric) END),
        ('weight_kg', 'withings', dd.day + time '07:05' + random() * interval '40 minutes',
         CASE WHEN m.weighs AND random() < 0.7 THEN round((m.weight0 - 0.08 * (:days - dd.day_n) * m.diligence
                                                            + 0.35 * pg_temp.gauss())::numeric, 1) END),
        ('basal_temp_c', 'manual', dd.day + time '06:15' + random() * interval '30 minutes',
         CASE WHEN m.cycles AND m.charts_temp THEN round((36.35 + CASE WHEN pg_temp.phase(m.member_id, dd.day) = 'luteal'
                                                                    THEN 0.3 ELSE 0 END + 0.08 * pg_temp.gauss())::numeric, 2) END)
      ) AS k(kind, source, at, value)
      WHERE k.value IS NOT NULL AND k.value >= CASE WHEN k.kind = 'hrv_ms' THEN 8 ELSE 0 END
      ORDER BY dd.member_id, dd.day, k.kind) b
ORDER BY member_id, at;

-- ---------- about 2% malformed, each the kind of mistake an app makes ----------

CREATE TEMP TABLE d_bad AS
SELECT seq, at, member_id, kind, ev, 1 + floor(random() * 6)::int AS mistake
FROM d_events WHERE random() < 0.02 ORDER BY seq;
INSERT INTO d_events (at, member_id, kind, ev)
SELECT at, member_id, 'bad', CASE mistake
  -- a sign error in the app's nutrient maths
  WHEN 1 THEN jsonb_build_object('type', 'log.nutrition', 'member_id', member_id, 'occurred_at', pg_temp.ts(at),
                                 'meal', 'snack', 'calories', -pg_temp.rint(80, 400))
  -- a field from a newer app version that the schema does not have
  WHEN 2 THEN ev || jsonb_build_object('heart_rate_avg', pg_temp.rint(90, 160))
  -- a local time without its offset
  WHEN 3 THEN ev || jsonb_build_object('occurred_at', to_char(at, 'YYYY-MM-DD HH24:MI'))
  -- the member forgotten
  WHEN 4 THEN ev - 'member_id'
  -- a member of another client's family
  WHEN 5 THEN (ev || jsonb_build_object('member_id', (SELECT member_id FROM d_other LIMIT 1))) - 'program_id'
  -- a temperature in Fahrenheit
  ELSE jsonb_build_object('type', 'biometric.reading', 'member_id', member_id, 'occurred_at', pg_temp.ts(at),
                          'kind', 'basal_temp_c', 'value', round((97.6 + random())::numeric, 1), 'source', 'manual')
  END
FROM d_bad ORDER BY seq;

-- ---------- requests ----------

-- In time order, as apps upload: most in batches of 50, some alone (an app
-- posting right away), every malformed one alone. Except one: the week's
-- first batch goes out once with a malformed event in it and is refused
-- whole, then again without it, as a client reading the per-item results does.
ALTER TABLE d_events ADD COLUMN single boolean;
UPDATE d_events SET single = kind = 'bad' OR random() < 0.06;
-- Only now, with every random() drawn, the part of today that has not
-- happened yet goes: the time of day changes how much of today is posted,
-- not what the rest of the week looks like.
DELETE FROM d_events e USING d_now n WHERE e.at > n.now;
UPDATE d_events SET single = false, kind = 'bad in batch'
WHERE seq = (SELECT min(seq) FROM d_events WHERE kind = 'bad' AND (ev->>'calories')::numeric < 0);
CREATE TEMP TABLE d_requests (ord float8, tie int, line text);
CREATE TEMP TABLE d_batched AS
SELECT ev, at, row_number() OVER (ORDER BY at, seq) - 1 AS rn
FROM d_events WHERE NOT single AND kind <> 'bad in batch';
INSERT INTO d_requests
SELECT extract(epoch FROM min(at)), 0, 'B ' || jsonb_agg(ev ORDER BY rn)::text FROM d_batched GROUP BY rn / 50;
INSERT INTO d_requests
SELECT extract(epoch FROM min(at)), -1,
       'B ' || (jsonb_agg(ev ORDER BY rn) || (SELECT jsonb_agg(ev) FROM d_events WHERE kind = 'bad in batch'))::text
FROM d_batched WHERE rn < 49;
INSERT INTO d_requests SELECT extract(epoch FROM at), 1, 'E ' || ev::text FROM d_events WHERE single;

\pset format unaligned
\pset tuples_only on
\pset pager off
SELECT line FROM d_requests ORDER BY ord, tie, line \g :out

SELECT format('seeded %s users with %s members (%s with a program) for client %s; stream: %s events (%s malformed) in %s requests',
              (SELECT count(*) FROM d_users), (SELECT count(*) FROM d_members), (SELECT count(*) FROM d_programs),
              :client_id, (SELECT count(*) FROM d_events), (SELECT count(*) FROM d_events WHERE kind LIKE 'bad%'),
              (SELECT count(*) FROM d_requests));
SELECT format('  %-18s %5s', kind, count(*)) FROM d_events GROUP BY kind ORDER BY count(*) DESC;
