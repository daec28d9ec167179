-- Departments (DOMAIN.md section 7): cases dispatched to each department in the period.
-- on-time close rate = closed with no late step / (dispatched - held); rework rate = reworked /
-- handled (reported back at least once); on-time handling = reported back without a late step.
-- Urgent cases (urgency high or critical) are also counted on their own, as cities score them.
WITH c AS (
    SELECT id, department_code, status, overdue_steps, reworks,
           urgency IN ('high', 'critical') AS urgent,
           date_trunc($grain, timezone($tz, dispatched_at)) AS bucket
    FROM cases
    WHERE dispatched_at >= $start AND dispatched_at < $end AND department_code IS NOT NULL
),
handled AS (
    SELECT case_id, bool_and(NOT step_ended_late) AS on_time
    FROM case_history
    WHERE action = 'report_back' AND "at" >= $start
    GROUP BY case_id
)
SELECT
    c.department_code,
    CAST(c.bucket AS DATE) AS period_start,
    count(*) AS dispatched,
    count(*) FILTER (WHERE c.status = 'closed') AS closed,
    count(*) FILTER (WHERE c.status = 'on_hold') AS held,
    count(*) FILTER (WHERE c.status = 'closed' AND c.overdue_steps = 0) AS closed_on_time,
    count(h.case_id) AS handled,
    count(*) FILTER (WHERE h.on_time) AS handled_on_time,
    count(*) FILTER (WHERE c.reworks > 0) AS reworked,
    closed / dispatched AS close_rate,
    closed_on_time / nullif(dispatched - held, 0) AS on_time_close_rate,
    handled_on_time / nullif(handled, 0) AS on_time_handling_rate,
    reworked / nullif(handled, 0) AS rework_rate,
    count(*) FILTER (WHERE c.urgent) AS urgent_dispatched,
    count(*) FILTER (WHERE c.urgent AND c.status = 'closed' AND c.overdue_steps = 0)
        / nullif(count(*) FILTER (WHERE c.urgent AND c.status <> 'on_hold'), 0)
        AS urgent_on_time_close_rate
FROM c LEFT JOIN handled h ON h.case_id = c.id
GROUP BY ALL
ORDER BY period_start, c.department_code
