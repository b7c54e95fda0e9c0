-- low_confidence: one row per item in the bottom decile of its confidence group: a review queue.
-- Groups are those of confidence_ranked (one job, one attribute, human or automated, one item
-- kind). An item is in the bottom decile when fewer than 10% of its group rank below it and it
-- is below the group's highest confidence: items tied at the top are never queued, however
-- many of them there are (in real jobs most labels often share the top score), and a group whose
-- items all share one confidence has nothing to queue.
select *
from confidence_ranked
where percent_rank < 0.1
    and confidence < group_max
