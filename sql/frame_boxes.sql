-- frame_boxes: one row per 2D box of a video frame (job, line, attribute, frame_index, box_index).
-- Coordinates in pixels. track_id is Ground Truth's object-id (null in detection jobs), the same
-- for every box of one tracked object; class_name comes from the label's class-map.
select * from parquet.frame_boxes
