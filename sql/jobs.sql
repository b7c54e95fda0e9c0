-- jobs: one row per ingested job.
-- status complete / in-progress, line counts, fingerprint of the job's files.
select * from parquet.jobs
