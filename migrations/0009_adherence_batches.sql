-- How many logs a model learns from (symptoms, meals, cycles) each member has
-- had stored, kept by hf-adherence in the transaction that stores them. The
-- pool asks for a retraining every HF_RETRAIN_EVERY_LOGS of them; counting
-- them in daily_logs on every batch was a scan of every month partition per
-- member, a quarter of a batch's time. A log deleted later still counts: the
-- trigger is "new data arrived", not "how much data is left".
CREATE TABLE member_log_counts (
    member_id bigint PRIMARY KEY REFERENCES members (id) ON DELETE CASCADE,
    logs bigint NOT NULL CHECK (logs >= 0)
);

INSERT INTO member_log_counts (member_id, logs)
SELECT member_id, count(*)
FROM daily_logs
WHERE log_type IN ('SYMPTOM', 'NUTRITION', 'CYCLE') AND deleted_at IS NULL
GROUP BY member_id;

-- A program day's strength window (the workouts of the 7 days up to it) read
-- through the (program_id, logged_at) index walked past every meal of those
-- days too: four rows in five were thrown away by the filter. Workouts only.
CREATE INDEX daily_logs_program_workouts ON daily_logs (program_id, logged_at) WHERE log_type = 'WORKOUT';
