-- labels: one row per (manifest line, label attribute).
-- is_inherited: the attribute came with the job's input (an upstream job made it).
select * from parquet.labels
