-- consolidation: one row per worker annotation of a consolidation request, and per data object of a consolidation response.
-- direction tells requests from responses; content is parsed JSON.
select * from parquet.consolidation
