-- frame_box_adjustments: one row per box of a video adjustment label (or of the label it
-- adjusts), paired by (frame_no, track_id): the same tracked object in the same frame. Boxes of
-- detection jobs have no track id and are paired by (frame_no, box_index). change: 'unchanged',
-- 'moved', 'relabelled' (same box, other class), 'added' or 'removed' (only one side has it).
-- An adjustment label is a video label with an adjustment-status (taken once, from
-- object_labels); the label it adjusts is the other video label of its line made most recently
-- before it, as in box_adjustments. Its boxes come from the sequence file of the job that made
-- it: those rows are in that job's partition (the adjustment job refers to the earlier job's
-- file), or in the adjustment job's own partition when its own directory holds them.
-- dx, dy, dw, dh are adjusted minus original, in pixels; iou is the boxes' intersection over union.
with adjustments as (
    select job, line, object_id, source_ref, label_job, attribute, adjustment_status, created_at
    from object_labels
    where adjustment_status is not null
        and label_type like 'video-%'
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
        and original.label_type like 'video-%'
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
sequence_lines as (
    select distinct job, line, object_id, attribute
    from frame_boxes
),
original_sources as (
    select
        label_pairs.job,
        label_pairs.line,
        label_pairs.attribute,
        sequence_lines.job as source_job,
        sequence_lines.line as source_line,
        row_number() over (
            partition by label_pairs.job, label_pairs.line, label_pairs.attribute
            order by sequence_lines.job = label_pairs.job desc,
                sequence_lines.job = label_pairs.original_job desc,
                sequence_lines.job, sequence_lines.line
        ) as pick
    from label_pairs
    join sequence_lines
        on sequence_lines.object_id = label_pairs.object_id
        and sequence_lines.attribute = label_pairs.original_attribute
),
adjusted_boxes as (
    select
        label_pairs.job,
        label_pairs.line,
        label_pairs.attribute,
        coalesce(frame_boxes.track_id, '#' || frame_boxes.box_index) as pair_key,
        frame_boxes.* exclude (job, type, line, object_id, attribute)
    from label_pairs
    join frame_boxes
        on frame_boxes.job = label_pairs.job
        and frame_boxes.line = label_pairs.line
        and frame_boxes.attribute = label_pairs.attribute
),
original_boxes as (
    select
        label_pairs.job,
        label_pairs.line,
        label_pairs.attribute,
        coalesce(frame_boxes.track_id, '#' || frame_boxes.box_index) as pair_key,
        frame_boxes.* exclude (job, type, line, object_id, attribute)
    from label_pairs
    join original_sources
        on original_sources.job = label_pairs.job
        and original_sources.line = label_pairs.line
        and original_sources.attribute = label_pairs.attribute
        and original_sources.pick = 1
    join frame_boxes
        on frame_boxes.job = original_sources.source_job
        and frame_boxes.line = original_sources.source_line
        and frame_boxes.attribute = label_pairs.original_attribute
),
box_pairs as (
    select
        coalesce(adjusted.job, original.job) as job,
        coalesce(adjusted.line, original.line) as line,
        coalesce(adjusted.attribute, original.attribute) as attribute,
        coalesce(adjusted.frame_no, original.frame_no) as frame_no,
        coalesce(adjusted.frame, original.frame) as frame,
        coalesce(adjusted.track_id, original.track_id) as track_id,
        adjusted.box_index as adjusted_box_index,
        original.box_index as original_box_index,
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
        adjusted.height as adjusted_height
    from adjusted_boxes as adjusted
    full join original_boxes as original
        on original.job = adjusted.job
        and original.line = adjusted.line
        and original.attribute = adjusted.attribute
        and original.frame_no = adjusted.frame_no
        and original.pair_key = adjusted.pair_key
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
    measured.frame_no,
    measured.frame,
    measured.track_id,
    measured.adjusted_box_index,
    measured.original_box_index,
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
    label_pairs.job,
    label_pairs.line
from measured
join label_pairs
    on label_pairs.job = measured.job
    and label_pairs.line = measured.line
    and label_pairs.attribute = measured.attribute
