-- Posts (DOMAIN.md section 7): per person and role, the steps they took in the period and how
-- many ended on time; filing accuracy = (filed - later cancelled) / filed, dispatch accuracy =
-- (dispatched - returned) / dispatched; an inspector's valid reports = reports not cancelled.
WITH h AS (
    SELECT h.actor, h.role, h.action, h.step_ended_late, c.status, c.returns, c.channel,
           date_trunc($grain, timezone($tz, h."at")) AS bucket
    FROM case_history h JOIN cases c ON c.id = h.case_id
    WHERE h."at" >= $start AND h."at" < $end AND h.actor NOT LIKE 'system:%'
)
SELECT
    actor,
    coalesce(any_value(role), '') AS role,
    CAST(bucket AS DATE) AS period_start,
    count(*) AS steps,
    count(*) FILTER (WHERE NOT step_ended_late) / count(*) AS on_time_rate,
    count(*) FILTER (WHERE action = 'create' AND channel = 'inspector') AS reports,
    count(*) FILTER (WHERE action = 'create' AND channel = 'inspector' AND status <> 'cancelled')
        / nullif(reports, 0) AS valid_report_rate,
    count(*) FILTER (WHERE action = 'file') AS filed,
    (filed - count(*) FILTER (WHERE action = 'file' AND status = 'cancelled'))
        / nullif(filed, 0) AS accurate_filing_rate,
    count(*) FILTER (WHERE action = 'dispatch') AS dispatched,
    (dispatched - count(*) FILTER (WHERE action = 'dispatch' AND returns > 0))
        / nullif(dispatched, 0) AS accurate_dispatch_rate,
    count(*) FILTER (WHERE action = 'verify') AS verified,
    count(*) FILTER (WHERE action = 'check') AS checked
FROM h
GROUP BY actor, bucket
ORDER BY period_start, actor
