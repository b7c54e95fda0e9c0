-- object_history: one row per (object, label job, attribute), numbered per object in the order
-- the labels were made (step 1 is the oldest; labels without a creation-date come last).
-- Built on object_labels, so a label carried through several chained jobs appears once.
select
    object_id,
    row_number() over (
        partition by coalesce(object_id, job || '/' || line)
        order by created_at nulls last, label_job nulls last, attribute
    ) as step,
    created_at,
    label_job,
    attribute,
    label_type,
    human_annotated,
    class_name,
    confidence,
    adjustment_status,
    value,
    source_ref,
    job,
    line
from object_labels
