-- classes: one row per class of a multi-label answer (job, line, attribute, class_id).
-- confidence comes from the label's confidence-map.
select * from parquet.classes
