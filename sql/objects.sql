-- objects: one row per manifest line (job, line).
-- source_ref / source, the passthrough keys as JSON (attributes) and the line itself (raw).
select * from parquet.objects
