-- boxes: one row per bounding box of a label (job, line, attribute, box_index).
-- Coordinates in pixels; confidence is per box, comparable within its label job only.
select * from parquet.boxes
