-- frames: one row per frame of a sequence file that a video or point-cloud label refers to
-- (job, line, attribute, frame_index). file is the sequence file's path under the job directory;
-- frame_no the frame's number, frame its image or point-cloud file; annotations counts its boxes
-- or cuboids; frame_attributes is JSON.
select * from parquet.frames
