-- Posts (DOMAIN.md section 7): per person and the role they acted in (one row per role: a
-- person who is both inspector and shift leader is judged in each), the steps they took in the
-- period and how many ended on time, overall and per step: verification and check (inspectors),
-- filing (shift leaders, registrars), dispatch (dispatchers). Filing accuracy = (filed - later
-- cancelled) / filed; dispatch accuracy = (dispatched - returned) / dispatched; an inspector's
-- valid reports = reports not cancelled. An inspector's missed-report rate = cases filed in the
-- period in a unit grid they patrolled on the day the case was reported, first reported by the
-- public (hotline, web and app, Open311, media) / cases filed in those grids: what the public saw
-- before the patrol did.
WITH h AS (
    SELECT h.actor, coalesce(h.role, '') AS role, h.action, h.step_ended_late, c.status,
           c.returns, c.channel, CAST(date_trunc($grain, timezone($tz, h."at")) AS DATE) AS bucket
    FROM case_history h JOIN cases c ON c.id = h.case_id
    WHERE h."at" >= $start AND h."at" < $end AND h.actor NOT LIKE 'system:%'
),
steps AS (
    SELECT
        actor,
        role,
        bucket AS period_start,
        count(*) AS steps,
        count(*) FILTER (WHERE NOT step_ended_late) / count(*) AS on_time_rate,
        count(*) FILTER (WHERE action = 'create' AND channel = 'inspector') AS reports,
        count(*) FILTER (WHERE action = 'create' AND channel = 'inspector'
                           AND status <> 'cancelled') / nullif(reports, 0) AS valid_report_rate,
        count(*) FILTER (WHERE action = 'verify') AS verified,
        count(*) FILTER (WHERE action = 'verify' AND NOT step_ended_late)
            / nullif(verified, 0) AS on_time_verification_rate,
        count(*) FILTER (WHERE action = 'check') AS checked,
        count(*) FILTER (WHERE action = 'check' AND NOT step_ended_late)
            / nullif(checked, 0) AS on_time_check_rate,
        count(*) FILTER (WHERE action = 'file') AS filed,
        count(*) FILTER (WHERE action = 'file' AND NOT step_ended_late)
            / nullif(filed, 0) AS on_time_filing_rate,
        (filed - count(*) FILTER (WHERE action = 'file' AND status = 'cancelled'))
            / nullif(filed, 0) AS accurate_filing_rate,
        count(*) FILTER (WHERE action = 'dispatch') AS dispatched,
        count(*) FILTER (WHERE action = 'dispatch' AND NOT step_ended_late)
            / nullif(dispatched, 0) AS on_time_dispatch_rate,
        (dispatched - count(*) FILTER (WHERE action = 'dispatch' AND returns > 0))
            / nullif(dispatched, 0) AS accurate_dispatch_rate
    FROM h
    GROUP BY actor, role, bucket
),
patrolled AS (
    SELECT 'user:' || CAST(g.user_id AS VARCHAR) AS actor, 'inspector' AS role,
           CAST(date_trunc($grain, timezone($tz, f."at")) AS DATE) AS period_start,
           count(*) AS filed_in_grids,
           count(*) FILTER (WHERE c.channel IN ('hotline', 'web_app', 'open311', 'media'))
               AS public_first
    FROM case_history f
    JOIN cases c ON c.id = f.case_id
    JOIN inspector_grids g
      ON g.unit_grid_code = c.unit_grid_code
     AND g.valid_from <= CAST(timezone($tz, c.created_at) AS DATE)
     AND (g.valid_to IS NULL OR CAST(timezone($tz, c.created_at) AS DATE) < g.valid_to)
    WHERE f.action = 'file' AND f."at" >= $start AND f."at" < $end
    GROUP BY 1, 2, 3
)
SELECT
    actor,
    role,
    period_start,
    coalesce(s.steps, 0) AS steps,
    s.on_time_rate,
    coalesce(s.reports, 0) AS reports,
    s.valid_report_rate,
    coalesce(s.verified, 0) AS verified,
    s.on_time_verification_rate,
    coalesce(s.checked, 0) AS checked,
    s.on_time_check_rate,
    coalesce(s.filed, 0) AS filed,
    s.on_time_filing_rate,
    s.accurate_filing_rate,
    coalesce(s.dispatched, 0) AS dispatched,
    s.on_time_dispatch_rate,
    s.accurate_dispatch_rate,
    coalesce(p.filed_in_grids, 0) AS filed_in_grids,
    coalesce(p.public_first, 0) AS public_first,
    p.public_first / nullif(p.filed_in_grids, 0) AS missed_report_rate
FROM steps s
FULL JOIN patrolled p USING (actor, role, period_start)
ORDER BY period_start, actor, role
