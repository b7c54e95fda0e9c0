-- low_confidence: one row per item in the bottom decile of its confidence group: a review queue.
-- Groups are those of confidence_ranked (one job, one attribute, human or automated, one item
-- kind); a group whose items all share one confidence has no bottom decile and is left out.
select *
from confidence_ranked
where percent_rank < 0.1
    and group_min < group_max
