-- Downstream pipelines: a trigger job's child (same project, its own configuration) or
-- multi-project pipeline. The pipeline knows the job that triggered it and, for a child,
-- the configuration it was created from (rebuilt from it after a restart); the job knows
-- the pipeline it triggered.
ALTER TABLE pipelines ADD COLUMN parent_job_id INTEGER REFERENCES jobs (id) ON DELETE SET NULL;
ALTER TABLE pipelines ADD COLUMN root_config TEXT;
ALTER TABLE jobs ADD COLUMN downstream_pipeline_id INTEGER REFERENCES pipelines (id) ON DELETE SET NULL;
