-- feedback: one row per verification comment (job, line, attribute, comment_index).
-- Comments of the workers of a label-verification job.
select * from parquet.feedback
