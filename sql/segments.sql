-- segments: one row per entry of a semantic-segmentation colour map (job, line, attribute, class_id).
-- Ground Truth scores segmentation per image: every class of an image shares one confidence.
select * from parquet.segments
