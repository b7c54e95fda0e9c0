-- object_labels: one row per (object, label job, attribute): every label once, however many
-- chained jobs carried it on.
-- The row is the label as the job that made it wrote it (is_inherited = false) when that job is
-- in the lake; otherwise one downstream copy, the first by job name and line. label_job is the
-- metadata's job-name: null for labels supplied as input to an adjustment job, and possibly an
-- anonymised name (DUMMY-JOB-NAME). origin_job is the job whose confidence scale the label uses:
-- the job partition for a job's own label (so anonymised names never merge jobs), else label_job,
-- else the carrying job. Lines without source-ref or source (object_id null) are their own object.
with copies as (
    select
        labels.*,
        row_number() over (object_label order by is_inherited, job, line) as copy_rank,
        count(*) over object_label as copies
    from labels
    window object_label as (
        partition by coalesce(object_id, job || '/' || line), label_job, attribute
    )
)
select
    copies.object_id,
    objects.source_ref,
    objects.source,
    copies.label_job,
    case
        when not copies.is_inherited or copies.label_job is null then copies.job
        else copies.label_job
    end as origin_job,
    copies.attribute,
    copies.label_type,
    copies.human_annotated,
    copies.created_at,
    copies.confidence,
    copies.class_id,
    copies.class_name,
    copies.adjustment_status,
    copies.value,
    copies.metadata,
    copies.job,
    copies.type,
    copies.line,
    copies.is_inherited,
    copies.copies
from copies
left join objects
    on objects.job = copies.job
    and objects.line = copies.line
where copies.copy_rank = 1
