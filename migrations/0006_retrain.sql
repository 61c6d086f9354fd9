-- The retraining pool's additions to user_models (0002). Owner: workers/retrain.
-- data_hash: fingerprint of the data a version learnt from (16 hex digits);
-- a retrain whose data has the newest version's fingerprint stores nothing.
ALTER TABLE user_models ADD COLUMN data_hash text CHECK (data_hash ~ '^[0-9a-f]{16}$');
