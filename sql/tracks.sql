-- tracks: one row per tracked object of a sequence (job, line, attribute, track_id): a video box
-- track or a point-cloud cuboid track. frames counts the frames the object appears in, between
-- first_frame and last_frame (gaps are frames where nobody drew it); class_changes counts the
-- frames whose class differs from the object's previous frame; classes lists its classes in
-- order of first appearance. Boxes and cuboids without a track id (detection jobs) are not tracks.
with items as (
    select job, line, object_id, attribute, 'box' as shape, track_id, object_name,
        frame_no, frame_index, class_id, class_name
    from frame_boxes
    where track_id is not null
    union all
    select job, line, object_id, attribute, 'cuboid', track_id, object_name,
        frame_no, frame_index, class_id, class_name
    from cuboids
    where track_id is not null
),
ordered_items as (
    select
        *,
        lag(class_id) over (
            partition by job, line, attribute, track_id order by frame_index
        ) as previous_class_id
    from items
),
track_spans as (
    select
        job,
        line,
        attribute,
        track_id,
        any_value(object_id) as object_id,
        any_value(shape) as shape,
        min(object_name) as object_name,
        min(frame_no) as first_frame,
        max(frame_no) as last_frame,
        count(distinct frame_no) as frames,
        count(*) filter (
            where previous_class_id is not null and previous_class_id is distinct from class_id
        ) as class_changes
    from ordered_items
    group by job, line, attribute, track_id
),
class_first_frames as (
    select job, line, attribute, track_id, class_name, min(frame_index) as first_index
    from items
    group by job, line, attribute, track_id, class_name
),
track_classes as (
    select job, line, attribute, track_id, list(class_name order by first_index) as classes
    from class_first_frames
    group by job, line, attribute, track_id
)
select
    track_spans.object_id,
    track_spans.attribute,
    track_spans.track_id,
    track_spans.shape,
    track_spans.object_name,
    track_spans.first_frame,
    track_spans.last_frame,
    track_spans.frames,
    track_spans.class_changes,
    track_classes.classes,
    track_spans.job,
    track_spans.line
from track_spans
join track_classes
    on track_classes.job = track_spans.job
    and track_classes.line = track_spans.line
    and track_classes.attribute = track_spans.attribute
    and track_classes.track_id = track_spans.track_id
