-- cuboids: one row per 3D cuboid (job, line, attribute, frame_index, cuboid_index). Point-cloud
-- detection cuboids come from the manifest line (file and frame columns null), tracking cuboids
-- from the sequence file. yaw is as Ground Truth writes it: pi minus the right-handed yaw.
select * from parquet.cuboids
