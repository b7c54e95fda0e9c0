-- files: one row per file under a job directory (job, path).
-- kind: output-manifest, worker-response, ... as listed at ingest time.
select * from parquet.files
