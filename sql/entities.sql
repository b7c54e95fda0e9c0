-- entities: one row per named-entity span (job, line, attribute, entity_index).
-- text is the span cut from the line's source text.
select * from parquet.entities
