-- job_lineage: one row per (upstream job, downstream job, attribute carried).
-- An edge exists where the downstream job's lines carry, as input, a label the upstream job made
-- (labels.is_inherited with label_job = the upstream job). Labels without a job-name name no
-- upstream job and make no edge. is_direct is false when the label came through a job in
-- between (A -> B -> C also shows A -> C, as C's lines still carry A's label).
with carried as (
    select
        label_job as upstream_job,
        job as downstream_job,
        type as downstream_type,
        attribute,
        label_type,
        object_id
    from labels
    where is_inherited
        and label_job is not null
        and lower(label_job) <> lower(job)
),
edges as (
    select
        upstream_job,
        downstream_job,
        downstream_type,
        attribute,
        label_type,
        count(distinct object_id) as objects,
        count(*) as labels
    from carried
    group by all
),
job_pairs as (
    select distinct upstream_job, downstream_job from edges
),
ingested as (
    select distinct lower(job) as job from jobs
)
select
    edges.upstream_job,
    edges.downstream_job,
    edges.downstream_type,
    edges.attribute,
    edges.label_type,
    edges.objects,
    edges.labels,
    lower(edges.upstream_job) in (select job from ingested) as upstream_ingested,
    not exists (
        select 1
        from job_pairs as first_hop
        join job_pairs as second_hop
            on second_hop.upstream_job = first_hop.downstream_job
        where first_hop.upstream_job = edges.upstream_job
            and second_hop.downstream_job = edges.downstream_job
            and first_hop.downstream_job <> edges.upstream_job
            and first_hop.downstream_job <> edges.downstream_job
    ) as is_direct
from edges
