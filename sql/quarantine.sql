-- quarantine: one row per manifest line, or whole file, that could not be read.
-- error says why; raw keeps the bytes as text.
select * from parquet.quarantine
