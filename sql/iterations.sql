-- iterations: one row per intermediate manifest of a job (job, iteration).
-- How far a job had got after each iteration.
select * from parquet.iterations
