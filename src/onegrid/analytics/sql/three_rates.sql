-- The hotline's three rates per unit for one month, as known at $cutoff (facts recorded later
-- never change a published month). response: hotline cases dispatched in the month whose unit
-- contacted the requester within the response limit / dispatched. The contact time is the one
-- the hotline desk recorded on the case's route (case_routes.contacted_at, before the route's
-- response_due_at); a case dispatched without a route (history loaded from elsewhere) falls back
-- to its unit's first accept (签收) within $response_hours, and `contacts_recorded` says how many
-- cases used the recorded time. resolution and satisfaction: callbacks in the month about the
-- unit's cases. Beside them: requests per 10,000 residents, repeat callers and the share
-- dispatched directly (no return recorded before $cutoff: the case's `returns` counter would
-- let a later return rewrite a published month). Areas carry one population, corrected in
-- place rather than dated, so the rate per 10,000 uses today's figure and the row records it
-- (`population`) to show what a republished month was divided by. Each rate is set against
-- its target ($t_*): `*_met` is null when the rate is (nothing to judge) or no target is set.
-- Each part reads the cases it needs with its own filter, so nothing scans all of history.
WITH dispatched AS (
    SELECT c.{unit} AS unit, count(*) AS dispatched,
           count(*) FILTER (WHERE CASE WHEN r.case_id IS NOT NULL
                                       THEN r.contacted_at <= r.response_due_at
                                            AND r.contacted_at < $cutoff
                                       ELSE a.first_accept <= c.dispatched_at
                                            + to_seconds(CAST($response_hours * 3600 AS BIGINT))
                                  END)
               AS responded,
           count(r.case_id) AS contacts_recorded,
           count(*) FILTER (WHERE ret.case_id IS NULL) AS direct
    FROM cases c
    LEFT JOIN (
        -- Every return before the cutoff, even before $start: the month's dispatch may be a
        -- re-dispatch after an earlier return. The one part that reads history back to the
        -- start, but only its 'return' rows.
        SELECT DISTINCT case_id FROM case_history WHERE action = 'return' AND "at" < $cutoff
    ) ret ON ret.case_id = c.id
    LEFT JOIN (
        SELECT case_id, min("at") AS first_accept FROM case_history
        WHERE action = 'accept' AND "at" >= $start AND "at" < $cutoff GROUP BY case_id
    ) a ON a.case_id = c.id
    LEFT JOIN (
        -- The latest dispatch of each case: its deadline and the contact recorded for it.
        SELECT case_id, arg_max(contacted_at, dispatched_at) AS contacted_at,
               arg_max(response_due_at, dispatched_at) AS response_due_at
        FROM case_routes
        WHERE dispatched_at >= $start AND dispatched_at < $cutoff
        GROUP BY case_id
    ) r ON r.case_id = c.id
    WHERE c.channel = 'hotline' AND c.{unit} IS NOT NULL
      AND c.dispatched_at >= $start AND c.dispatched_at < $end
    GROUP BY 1
),
answered AS (
    SELECT c.{unit} AS unit, count(*) AS callbacks,
           count(*) FILTER (WHERE b.resolved) AS resolved,
           count(*) FILTER (WHERE b.satisfaction = 'satisfied') AS satisfied,
           count(*) FILTER (WHERE b.satisfaction = 'basically_satisfied') AS basically_satisfied
    FROM callbacks b JOIN cases c ON c.id = b.case_id
    WHERE b."at" >= $start AND b."at" < $end AND b."at" < $cutoff
      AND c.channel = 'hotline' AND c.{unit} IS NOT NULL
    GROUP BY 1
),
requests AS (
    -- Calls per (unit, reporter) first, then per unit: one pass over the month's cases (a
    -- window over the same rows made DuckDB read them twice). Cases without a reporter key
    -- are requests but never repeat callers (count() skips the null key).
    SELECT unit, CAST(sum(calls) AS BIGINT) AS requests,
           count(reporter_key) FILTER (WHERE calls > 1) AS repeat_callers
    FROM (
        SELECT {unit} AS unit, reporter_key, count(*) AS calls
        FROM cases
        WHERE channel = 'hotline' AND {unit} IS NOT NULL
          AND created_at >= $start AND created_at < $end
        GROUP BY 1, 2
    )
    GROUP BY unit
),
rates AS (
    SELECT
        coalesce(d.unit, b.unit, r.unit) AS unit,
        coalesce(d.dispatched, 0) AS dispatched,
        coalesce(d.responded, 0) AS responded,
        coalesce(d.contacts_recorded, 0) AS contacts_recorded,
        coalesce(b.callbacks, 0) AS callbacks,
        coalesce(r.requests, 0) AS requests,
        coalesce(r.repeat_callers, 0) AS repeat_callers,
        d.direct / nullif(d.dispatched, 0) AS direct_share,
        d.responded / nullif(d.dispatched, 0) AS response_rate,
        b.resolved / nullif(b.callbacks, 0) AS resolution_rate,
        (b.satisfied + $basically * b.basically_satisfied) / nullif(b.callbacks, 0)
            AS satisfaction_rate
    FROM dispatched d
    FULL JOIN answered b ON b.unit = d.unit
    FULL JOIN requests r ON r.unit = coalesce(d.unit, b.unit)
)
SELECT
    rates.*,
    any_value(a.name_zh) OVER (PARTITION BY rates.unit) AS name,
    a.population,
    rates.requests * 10000.0 / nullif(a.population, 0) AS requests_per_10k_residents,
    100 * ($w_response * response_rate + $w_resolution * resolution_rate
           + $w_satisfaction * satisfaction_rate) AS score,
    response_rate >= CAST($t_response AS DOUBLE) AS response_met,
    resolution_rate >= CAST($t_resolution AS DOUBLE) AS resolution_met,
    satisfaction_rate >= CAST($t_satisfaction AS DOUBLE) AS satisfaction_met
FROM rates LEFT JOIN areas a ON a.code = rates.unit
