-- confidence_ranked: one row per confidence-bearing item: a label, box, class, segment, entity,
-- video frame box or cuboid with a confidence, of the labels in object_labels (each label once,
-- however often carried). frame_no is the frame of a frame box or a tracked cuboid, else null.
-- Ground Truth confidence is comparable only within one job and between labels of one kind, so
-- items are ranked within (origin_job, attribute, human_annotated, item): never across jobs,
-- never human against automated labels. percent_rank is 0 for the lowest confidence of its
-- group and 1 for the highest; group_min = group_max means the group cannot be ranked (one item,
-- or one-worker jobs, whose confidence is always 0).
with chosen as (
    select job, line, attribute, object_id, source_ref, label_job, origin_job, label_type,
        human_annotated
    from object_labels
),
items as (
    select 'label' as item, null::bigint as item_index, null::bigint as frame_no, job, line,
        attribute, class_id, class_name, confidence
    from labels
    union all
    select 'box', box_index, null, job, line, attribute, class_id, class_name, confidence
    from boxes
    union all
    select 'class', class_id, null, job, line, attribute, class_id, class_name, confidence
    from classes
    union all
    select 'segment', class_id, null, job, line, attribute, class_id, class_name, confidence
    from segments
    union all
    select 'entity', entity_index, null, job, line, attribute, null, label, confidence
    from entities
    union all
    select 'frame box', box_index, frame_no, job, line, attribute, class_id, class_name, confidence
    from frame_boxes
    union all
    select 'cuboid', cuboid_index, frame_no, job, line, attribute, class_id, class_name, confidence
    from cuboids
)
select
    chosen.origin_job,
    chosen.label_job,
    chosen.attribute,
    chosen.human_annotated,
    items.item,
    items.item_index,
    items.frame_no,
    chosen.label_type,
    chosen.object_id,
    chosen.source_ref,
    items.class_id,
    items.class_name,
    items.confidence,
    percent_rank() over ranked as percent_rank,
    rank() over ranked as rank_in_group,
    count(*) over grp as group_items,
    min(items.confidence) over grp as group_min,
    max(items.confidence) over grp as group_max,
    items.job,
    items.line
from items
join chosen
    on chosen.job = items.job
    and chosen.line = items.line
    and chosen.attribute = items.attribute
where items.confidence is not null
window
    grp as (partition by chosen.origin_job, chosen.attribute, chosen.human_annotated, items.item),
    ranked as (
        partition by chosen.origin_job, chosen.attribute, chosen.human_annotated, items.item
        order by items.confidence
    )
