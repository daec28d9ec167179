-- The on-time close rate alone (DOMAIN.md section 7), per department and bucket: closed with no
-- late step / (dispatched - held). The same definition as department_indicators' column of that
-- name (a test holds the two equal); this one reads the cases table only, so the command
-- centre's chart of it does not pay for the report-back history that on-time handling needs.
SELECT
    department_code,
    CAST(date_trunc($grain, timezone($tz, dispatched_at)) AS DATE) AS period_start,
    count(*) AS dispatched,
    count(*) FILTER (WHERE status = 'on_hold') AS held,
    count(*) FILTER (WHERE status = 'closed' AND overdue_steps = 0) AS closed_on_time,
    closed_on_time / nullif(dispatched - held, 0) AS on_time_close_rate
FROM cases
WHERE dispatched_at >= $start AND dispatched_at < $end AND department_code IS NOT NULL
GROUP BY ALL
ORDER BY period_start, department_code
