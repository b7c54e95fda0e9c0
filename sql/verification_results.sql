-- verification_results: one row per (verification verdict, label it judged).
-- A verdict is a label-verification label (taken once, from object_labels): its class_name
-- (e.g. good / bad), confidence and the workers' comments (from feedback, in order). The labels
-- it judged are the other, non-verification labels on the same line made before it (the job's
-- input); judged_is_latest marks the most recent of them, the usual target when jobs were chained
-- several times. A verdict whose line holds no other label is kept, judged columns null.
with verdicts as (
    select job, line, object_id, source_ref, label_job, attribute, class_name, confidence,
        human_annotated, created_at
    from object_labels
    where label_type = 'label-verification'
),
comments as (
    select
        job,
        line,
        attribute,
        list(comment order by comment_index) filter (where comment is not null) as comments
    from feedback
    group by job, line, attribute
),
judged as (
    select
        verdicts.job,
        verdicts.line,
        verdicts.attribute as verify_attribute,
        target.label_job,
        target.attribute,
        target.label_type,
        target.class_name,
        target.confidence,
        target.value,
        rank() over (
            partition by verdicts.job, verdicts.line, verdicts.attribute
            order by target.created_at desc nulls last
        ) = 1 as is_latest
    from verdicts
    join labels as target
        on target.job = verdicts.job
        and target.line = verdicts.line
        and target.attribute <> verdicts.attribute
        and target.label_type <> 'label-verification'
        and (target.created_at is null or verdicts.created_at is null
            or target.created_at <= verdicts.created_at)
)
select
    verdicts.object_id,
    verdicts.source_ref,
    verdicts.label_job as verify_job,
    verdicts.attribute as verify_attribute,
    verdicts.class_name as verdict,
    verdicts.confidence as verdict_confidence,
    verdicts.human_annotated,
    coalesce(comments.comments, []::varchar[]) as comments,
    judged.label_job as judged_job,
    judged.attribute as judged_attribute,
    judged.label_type as judged_type,
    judged.class_name as judged_class,
    judged.confidence as judged_confidence,
    judged.value as judged_value,
    judged.is_latest as judged_is_latest,
    verdicts.job,
    verdicts.line
from verdicts
left join comments
    on comments.job = verdicts.job
    and comments.line = verdicts.line
    and comments.attribute = verdicts.attribute
left join judged
    on judged.job = verdicts.job
    and judged.line = verdicts.line
    and judged.verify_attribute = verdicts.attribute
