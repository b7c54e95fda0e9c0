-- worker_stats: one row per (job, worker).
-- answers and objects counted from worker_responses; seconds is timeSpentInSeconds, else
-- submission minus acceptance time (null in the 2019 format, which has neither). A worker agrees
-- when their answer's label (answerContent.<element>.label, as classification templates write
-- it) is the class of the job's consolidated label on that line (object_index is the manifest
-- line); compared counts the answers where both are known, agreement = agreed / compared.
with answers as (
    select
        job,
        worker_id,
        workforce,
        iteration,
        object_index,
        submission_time,
        coalesce(time_spent_s, epoch(submission_time - acceptance_time)) as seconds,
        json_extract_string(answer, '$.*.label') as answer_labels
    from worker_responses
),
consolidated as (
    select job, line, class_name
    from labels
    where not is_inherited
        and class_name is not null
),
judged as (
    select
        answers.*,
        consolidated.class_name as consolidated_class,
        case
            when consolidated.class_name is null or len(answers.answer_labels) = 0 then null
            else list_contains(answers.answer_labels, consolidated.class_name)
        end as agrees
    from answers
    left join consolidated
        on consolidated.job = answers.job
        and consolidated.line = answers.object_index
)
select
    job,
    worker_id,
    any_value(workforce) as workforce,
    count(*) as answers,
    count(distinct (iteration, object_index)) as objects,
    sum(seconds) as total_seconds,
    median(seconds) as median_seconds,
    avg(seconds) as mean_seconds,
    count(agrees) as compared,
    count(*) filter (where agrees) as agreed,
    count(*) filter (where agrees) / nullif(count(agrees), 0) as agreement,
    min(submission_time) as first_submission,
    max(submission_time) as last_submission
from judged
group by job, worker_id
