-- N=1 experiments (design doc 003): a person tries an intervention over a
-- date range and watches one outcome; the insights pool (workers/insights)
-- reads them and reports the effect, before against during, in
-- user_insights. Written by hfctl (and the apps' API, later); read by the
-- insights pool only.
CREATE TABLE experiments (
    id           bigserial PRIMARY KEY,
    member_id    bigint NOT NULL REFERENCES members (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    intervention text NOT NULL CHECK (length(intervention) BETWEEN 1 AND 200),
    -- a symptom of log.symptom or a kind of biometric.reading
    outcome      text NOT NULL CHECK (outcome IN (
                   'bloating', 'energy', 'focus', 'mood', 'headache', 'cramps', 'nausea', 'stress', 'sleep_quality',
                   'basal_temp_c', 'weight_kg', 'resting_hr_bpm', 'hrv_ms', 'sleep_hours', 'sleep_score', 'steps',
                   'lh_test', 'glucose_mg_dl', 'bp_systolic', 'bp_diastolic')),
    start_date   date NOT NULL,
    end_date     date CHECK (end_date IS NULL OR end_date >= start_date),  -- NULL while running
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX experiments_member ON experiments (member_id, id);
