-- worker_responses: one row per answer of one worker (job, iteration, object_index, answer).
-- answer is the worker's answerContent as JSON; object_index is the manifest line.
select * from parquet.worker_responses
