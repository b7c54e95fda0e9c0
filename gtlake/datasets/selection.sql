-- dataset selection: one row per selected label (object, label family), with the object's split.
-- Built on the views (object_labels, labels, verification_results); every value is a parameter:
--   $policy         'latest' or 'verified'
--   $good_verdicts  verification class names that mean "good" (lowercase), e.g. ['good']
--   $seed           text mixed into the split hash
--   $split_names    e.g. ['train', 'val', 'test']
--   $split_bounds   cumulative upper bounds, e.g. [0.8, 0.9, 1.0]
-- A label family is what one question about an object became over chained jobs: a correction
-- (an adjustment, or any later box / mask / video / point cloud label of the same type on the
-- line that carried the earlier one) replaces the labels it was given, and a later job writing
-- the same attribute of the same object replaces the earlier job's label. latest keeps the labels
-- nothing replaced; verified keeps those a verification job judged good and none judged bad
-- (a verdict on a label an adjustment left 'unadjusted' holds for the adjustment's label too).
with trainable_labels as (
    -- every label once (object_labels), verdicts and lines without a data object left out
    select *
    from object_labels
    where label_type <> 'label-verification'
        and object_id is not null
),
label_copies as (
    -- where each label sits: every line (job, line) that carries it, its own job's or a copy
    select job, line, object_id, label_job, attribute, label_type, is_inherited, created_at,
        adjustment_status
    from labels
    where label_type <> 'label-verification'
        and object_id is not null
),
corrections as (
    -- labels that correct the input labels of their type they were given
    select *
    from label_copies
    where adjustment_status is not null
        or label_type in ('object-detection', 'semantic-segmentation')
        or label_type like 'video-%'
        or label_type like 'point-cloud-%'
),
replaced_by_correction as (
    -- an earlier label of the same type on a line that carries a correction: the job's own
    -- label replaces the inherited ones; between two inherited copies the later one wins
    select distinct earlier.object_id, earlier.label_job, earlier.attribute,
        later.label_job as later_job, later.attribute as later_attribute,
        later.adjustment_status as later_status
    from corrections as later
    join label_copies as earlier
        on earlier.job = later.job
        and earlier.line = later.line
        and earlier.attribute <> later.attribute
        and earlier.label_type = later.label_type
        and (
            (earlier.is_inherited and not later.is_inherited)
            or (earlier.is_inherited = later.is_inherited and earlier.created_at < later.created_at)
        )
),
replaced_by_rerun as (
    -- the same attribute of the same object written again by a later job
    select distinct earlier.object_id, earlier.label_job, earlier.attribute,
        later.label_job as later_job, later.attribute as later_attribute,
        later.adjustment_status as later_status
    from trainable_labels as later
    join trainable_labels as earlier
        on earlier.object_id = later.object_id
        and earlier.attribute = later.attribute
        and earlier.label_type = later.label_type
        and earlier.label_job is distinct from later.label_job
        and earlier.created_at < later.created_at
),
replaced_labels as (
    select * from replaced_by_correction
    union
    select * from replaced_by_rerun
),
latest_labels as (
    -- per object and label family, the label nothing replaced
    select trainable_labels.*
    from trainable_labels
    anti join replaced_labels
        on replaced_labels.object_id = trainable_labels.object_id
        and replaced_labels.label_job is not distinct from trainable_labels.label_job
        and replaced_labels.attribute = trainable_labels.attribute
),
judged_labels as (
    -- the label each verdict judged (the latest label on the verification job's line)
    select object_id, judged_job as label_job, judged_attribute as attribute, verdict
    from verification_results
    where judged_is_latest
        and judged_attribute is not null
        and verdict is not null
),
judged_through_unadjusted as (
    -- an adjustment that left the label as it was ('unadjusted') keeps the label's verdicts
    select replaced.object_id, replaced.later_job as label_job,
        replaced.later_attribute as attribute, judged_labels.verdict
    from judged_labels
    join replaced_labels as replaced
        on replaced.object_id = judged_labels.object_id
        and replaced.label_job is not distinct from judged_labels.label_job
        and replaced.attribute = judged_labels.attribute
        and replaced.later_status = 'unadjusted'
),
verdicts_per_label as (
    select
        object_id,
        label_job,
        attribute,
        bool_or(list_contains($good_verdicts, lower(verdict))) as judged_good,
        bool_or(not list_contains($good_verdicts, lower(verdict))) as judged_bad
    from (select * from judged_labels union all select * from judged_through_unadjusted)
    group by all
),
policy_labels as (
    select latest_labels.*
    from latest_labels
    left join verdicts_per_label as verdicts
        on verdicts.object_id = latest_labels.object_id
        and verdicts.label_job is not distinct from latest_labels.label_job
        and verdicts.attribute = latest_labels.attribute
    where $policy = 'latest'
        or ($policy = 'verified' and verdicts.judged_good and not verdicts.judged_bad)
),
hashed_objects as (
    -- a number in [0, 1) per object from its id and the seed: stable whatever else is ingested
    select
        *,
        ('0x' || left(sha256($seed || ':' || object_id), 15))::ubigint / pow(2, 60) as split_hash
    from policy_labels
)
select
    * exclude (split_hash),
    $split_names[list_position(list_transform($split_bounds, lambda bound: split_hash < bound), true)]
        as split
from hashed_objects
