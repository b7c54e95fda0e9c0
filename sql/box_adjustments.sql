-- box_adjustments: one row per box of an adjustment label, paired by box_index with the box it
-- adjusts. change: 'unchanged', 'moved', 'relabelled' (same box, other class), and 'added' or
-- 'removed' for a box only one side has.
-- An adjustment label is an object-detection label with an adjustment-status (taken once, from
-- object_labels). The box it adjusts is on the same line: the other object-detection label made
-- most recently before it (the adjustment job's input). dx, dy, dw, dh are adjusted minus
-- original, in pixels; iou is the boxes' intersection over their union.
with adjustments as (
    select job, line, object_id, source_ref, label_job, attribute, adjustment_status, created_at
    from object_labels
    where adjustment_status is not null
        and label_type = 'object-detection'
),
candidates as (
    select
        adjustments.job,
        adjustments.line,
        adjustments.attribute as adjusted_attribute,
        original.attribute as original_attribute,
        original.label_job as original_job,
        row_number() over (
            partition by adjustments.job, adjustments.line, adjustments.attribute
            order by original.created_at desc nulls last, original.attribute
        ) as pick
    from adjustments
    join labels as original
        on original.job = adjustments.job
        and original.line = adjustments.line
        and original.attribute <> adjustments.attribute
        and original.label_type = 'object-detection'
        and (original.created_at is null or adjustments.created_at is null
            or original.created_at <= adjustments.created_at)
),
label_pairs as (
    select
        adjustments.*,
        candidates.original_attribute,
        candidates.original_job
    from adjustments
    left join candidates
        on candidates.job = adjustments.job
        and candidates.line = adjustments.line
        and candidates.adjusted_attribute = adjustments.attribute
        and candidates.pick = 1
),
adjusted_boxes as (
    select label_pairs.job, label_pairs.line, label_pairs.attribute, boxes.*
        exclude (job, type, line, object_id, attribute)
    from label_pairs
    join boxes
        on boxes.job = label_pairs.job
        and boxes.line = label_pairs.line
        and boxes.attribute = label_pairs.attribute
),
original_boxes as (
    select label_pairs.job, label_pairs.line, label_pairs.attribute, boxes.*
        exclude (job, type, line, object_id, attribute)
    from label_pairs
    join boxes
        on boxes.job = label_pairs.job
        and boxes.line = label_pairs.line
        and boxes.attribute = label_pairs.original_attribute
),
box_pairs as (
    select
        coalesce(adjusted.job, original.job) as job,
        coalesce(adjusted.line, original.line) as line,
        coalesce(adjusted.attribute, original.attribute) as attribute,
        coalesce(adjusted.box_index, original.box_index) as box_index,
        original.box_index is not null as has_original,
        adjusted.box_index is not null as has_adjusted,
        original.class_name as original_class,
        adjusted.class_name as adjusted_class,
        original."left" as original_left,
        original.top as original_top,
        original.width as original_width,
        original.height as original_height,
        adjusted."left" as adjusted_left,
        adjusted.top as adjusted_top,
        adjusted.width as adjusted_width,
        adjusted.height as adjusted_height,
        adjusted.confidence as adjusted_confidence
    from adjusted_boxes as adjusted
    full join original_boxes as original
        on original.job = adjusted.job
        and original.line = adjusted.line
        and original.attribute = adjusted.attribute
        and original.box_index = adjusted.box_index
),
overlap_sizes as (
    select
        *,
        greatest(0, least(original_left + original_width, adjusted_left + adjusted_width)
            - greatest(original_left, adjusted_left)) as overlap_width,
        greatest(0, least(original_top + original_height, adjusted_top + adjusted_height)
            - greatest(original_top, adjusted_top)) as overlap_height
    from box_pairs
),
measured as (
    select
        *,
        overlap_width * overlap_height as intersection,
        original_width * original_height + adjusted_width * adjusted_height
            - overlap_width * overlap_height as union_area
    from overlap_sizes
)
select
    label_pairs.object_id,
    label_pairs.source_ref,
    label_pairs.label_job as adjust_job,
    label_pairs.attribute as adjusted_attribute,
    label_pairs.adjustment_status,
    label_pairs.original_job,
    label_pairs.original_attribute,
    measured.box_index,
    case
        when not measured.has_original then 'added'
        when not measured.has_adjusted then 'removed'
        when measured.adjusted_left = measured.original_left
            and measured.adjusted_top = measured.original_top
            and measured.adjusted_width = measured.original_width
            and measured.adjusted_height = measured.original_height
            then case
                when measured.original_class is distinct from measured.adjusted_class
                    then 'relabelled'
                else 'unchanged'
            end
        else 'moved'
    end as change,
    measured.original_class,
    measured.adjusted_class,
    measured.has_original and measured.has_adjusted
        and measured.original_class is distinct from measured.adjusted_class as class_changed,
    case when measured.union_area > 0 then measured.intersection / measured.union_area end as iou,
    measured.adjusted_left - measured.original_left as dx,
    measured.adjusted_top - measured.original_top as dy,
    measured.adjusted_width - measured.original_width as dw,
    measured.adjusted_height - measured.original_height as dh,
    measured.original_left,
    measured.original_top,
    measured.original_width,
    measured.original_height,
    measured.adjusted_left,
    measured.adjusted_top,
    measured.adjusted_width,
    measured.adjusted_height,
    measured.adjusted_confidence,
    label_pairs.job,
    label_pairs.line
from measured
join label_pairs
    on label_pairs.job = measured.job
    and label_pairs.line = measured.line
    and label_pairs.attribute = measured.attribute
