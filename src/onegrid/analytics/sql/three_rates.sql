-- The hotline's three rates per unit for one month, as known at $cutoff (facts recorded later
-- never change a published month). response: hotline cases dispatched in the month whose unit
-- contacted the requester within the response limit / dispatched. The contact time is the one
-- the hotline desk recorded on the case's route (case_routes.contacted_at, before the route's
-- response_due_at); a case dispatched without a route (history loaded from elsewhere) falls back
-- to its unit's first accept (签收) within $response_hours, and `contacts_recorded` says how many
-- cases used the recorded time. resolution and satisfaction: callbacks in the month about the
-- unit's cases. Beside them: requests per 10,000 residents, repeat callers, and how the month's
-- cases were sent, read from the route of their latest dispatch (case_routes.rule, set when the
-- route was decided; only routes dispatched before $cutoff): `direct` (直派) when a rule named
-- the responsible unit (the component, the dispatch catalogue's duty rules) or an operator
-- chose a unit, `relayed` (兜底) when nothing matched and the district government of the place
-- took it ($relayed_rule), or an operator chose that government ($chosen_rule to the case's
-- district code + $government_suffix). `direct_share` = direct / (direct + relayed): a case
-- without a route (history loaded from elsewhere) is neither, and is left out of the share
-- (null when no case of the unit has one); `contacts_recorded` counts the cases with a route.
-- `returned` counts the cases with a return recorded before $cutoff (the case's `returns`
-- counter would let a later return rewrite a published month).
-- A case's month and department come from its history, not from its row: a return and
-- re-dispatch overwrite cases.dispatched_at and department_code, so a case is dispatched in
-- the month when its latest dispatch recorded before $cutoff is, and the department ranking
-- holds responsible the department of that dispatch (even if it returned the case before
-- $cutoff: it was dispatched there, and counts it as returned). A callback counts for the unit
-- the desk recorded on it, as the desk's own rates do (dispatch.hotline.queries); one without
-- (loaded from elsewhere) for the case's department at $cutoff. A case loaded without its steps
-- (no dispatch in its history) keeps its own columns: no recorded step changed them. The area
-- levels group by where the case is, which no step changes.
-- The rate per 10,000 divides by the area's dated population in force on the month's first
-- day ($first; area_populations), or by areas.population (corrected in place, so today's
-- figure) where the area has none from that day; `population` is the figure used and
-- `population_valid_from` the day it holds from (null: the undated figure).
-- Each rate is set against its target ($t_*): `*_met` is null when the rate is null (nothing
-- to judge) or no target is set. Each part reads the cases it needs with its own filter; the
-- two that reach back before $start read few rows there (returns, and for the department
-- ranking the dispatches of the month's called-back cases).
WITH dispatches AS (
    -- Each case's latest dispatch recorded in [$start, $cutoff): a later one in that window
    -- moves the case out of the month; one after $cutoff is not known yet.
    SELECT case_id, max("at") AS dispatched_at,
           arg_max(department_code, ("at", id)) AS department_code
    FROM case_history
    WHERE action = 'dispatch' AND "at" >= $start AND "at" < $cutoff
    GROUP BY case_id
),
month_dispatched AS (
    SELECT c.* REPLACE (d.dispatched_at AS dispatched_at, d.department_code AS department_code)
    FROM dispatches d JOIN cases c ON c.id = d.case_id
    WHERE d.dispatched_at < $end AND c.channel = 'hotline'
    UNION ALL
    SELECT c.* FROM cases c
    WHERE c.channel = 'hotline' AND c.dispatched_at >= $start AND c.dispatched_at < $end
      AND NOT EXISTS (SELECT 1 FROM dispatches d WHERE d.case_id = c.id)
),
held AS (
    -- Who held each case called back in the month without a unit recorded on the callback,
    -- at $cutoff: the department of its latest dispatch before then, however long ago. Only
    -- the department ranking asks: for an area level the comparison is false and DuckDB reads
    -- no history here.
    SELECT case_id, arg_max(department_code, ("at", id)) AS department_code
    FROM case_history
    WHERE '{unit}' = 'department_code' AND action = 'dispatch' AND "at" < $cutoff
      AND case_id IN (SELECT case_id FROM callbacks
                      WHERE "at" >= $start AND "at" < $end AND department_code IS NULL)
    GROUP BY case_id
),
dispatched AS (
    SELECT c.{unit} AS unit, count(*) AS dispatched,
           count(*) FILTER (WHERE CASE WHEN r.case_id IS NOT NULL
                                       THEN r.contacted_at <= r.response_due_at
                                            AND r.contacted_at < $cutoff
                                       ELSE a.first_accept <= c.dispatched_at
                                            + to_seconds(CAST($response_hours * 3600 AS BIGINT))
                                  END)
               AS responded,
           count(r.case_id) AS contacts_recorded,
           count(r.rule) AS routed,
           count(*) FILTER (WHERE r.rule = $relayed_rule
                                  OR (r.rule = $chosen_rule
                                      AND r.department_code = c.district_code || $government_suffix))
               AS relayed,
           count(ret.case_id) AS returned
    FROM month_dispatched c
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
        -- The latest dispatch of each case: its deadline, the contact recorded for it (none
        -- yet is null: arg_max_null, so an earlier route's contact does not stand in), the
        -- rule that chose its unit and that unit.
        SELECT case_id, arg_max_null(contacted_at, dispatched_at) AS contacted_at,
               arg_max(response_due_at, dispatched_at) AS response_due_at,
               arg_max(rule, dispatched_at) AS rule,
               arg_max(department_code, dispatched_at) AS department_code
        FROM case_routes
        WHERE dispatched_at >= $start AND dispatched_at < $cutoff
        GROUP BY case_id
    ) r ON r.case_id = c.id
    WHERE c.{unit} IS NOT NULL
    GROUP BY 1
),
answered AS (
    SELECT c.{unit} AS unit, count(*) AS callbacks,
           count(*) FILTER (WHERE c.resolved) AS resolved,
           count(*) FILTER (WHERE c.satisfaction = 'satisfied') AS satisfied,
           count(*) FILTER (WHERE c.satisfaction = 'basically_satisfied') AS basically_satisfied
    FROM (
        SELECT b.resolved, b.satisfaction,
               c.* REPLACE (CASE WHEN b.department_code IS NOT NULL THEN b.department_code
                                 WHEN h.case_id IS NOT NULL THEN h.department_code
                                 WHEN c.dispatched_at < $cutoff THEN c.department_code
                            END AS department_code)
        FROM callbacks b JOIN cases c ON c.id = b.case_id
        LEFT JOIN held h ON h.case_id = b.case_id
        WHERE b."at" >= $start AND b."at" < $end AND b."at" < $cutoff
          AND c.channel = 'hotline'
    ) c
    WHERE c.{unit} IS NOT NULL
    GROUP BY 1
),
requests AS (
    -- Calls per (unit, reporter) first, then per unit: one pass over the month's cases (a
    -- window over the same rows made DuckDB read them twice). Cases without a reporter key
    -- are requests but never repeat callers (count() skips the null key). A case created in
    -- the month is dispatched after $start, so `dispatches` knows its department at $cutoff;
    -- an area level does not ask, and the join is dropped.
    SELECT unit, CAST(sum(calls) AS BIGINT) AS requests,
           count(reporter_key) FILTER (WHERE calls > 1) AS repeat_callers
    FROM (
        SELECT c.{unit} AS unit, c.reporter_key, count(*) AS calls
        FROM (
            SELECT c.* REPLACE (CASE WHEN d.case_id IS NOT NULL THEN d.department_code
                                     WHEN c.dispatched_at < $cutoff THEN c.department_code
                                END AS department_code)
            FROM cases c
            LEFT JOIN dispatches d ON d.case_id = c.id AND '{unit}' = 'department_code'
            WHERE c.channel = 'hotline' AND c.created_at >= $start AND c.created_at < $end
        ) c
        WHERE c.{unit} IS NOT NULL
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
        coalesce(d.routed - d.relayed, 0) AS direct,
        coalesce(d.relayed, 0) AS relayed,
        coalesce(d.returned, 0) AS returned,
        (d.routed - d.relayed) / nullif(d.routed, 0) AS direct_share,
        d.responded / nullif(d.dispatched, 0) AS response_rate,
        b.resolved / nullif(b.callbacks, 0) AS resolution_rate,
        (b.satisfied + $basically * b.basically_satisfied) / nullif(b.callbacks, 0)
            AS satisfaction_rate
    FROM dispatched d
    FULL JOIN answered b ON b.unit = d.unit
    FULL JOIN requests r ON r.unit = coalesce(d.unit, b.unit)
),
dated AS (
    -- Each area's population in force on the month's first day.
    SELECT area_code, arg_max(population, valid_from) AS population,
           max(valid_from) AS valid_from
    FROM area_populations
    WHERE valid_from <= $first
    GROUP BY area_code
)
SELECT
    rates.*,
    any_value(a.name_zh) OVER (PARTITION BY rates.unit) AS name,
    coalesce(p.population, a.population) AS population,
    p.valid_from AS population_valid_from,
    rates.requests * 10000.0 / nullif(coalesce(p.population, a.population), 0)
        AS requests_per_10k_residents,
    100 * ($w_response * response_rate + $w_resolution * resolution_rate
           + $w_satisfaction * satisfaction_rate) AS score,
    response_rate >= CAST($t_response AS DOUBLE) AS response_met,
    resolution_rate >= CAST($t_resolution AS DOUBLE) AS resolution_met,
    satisfaction_rate >= CAST($t_satisfaction AS DOUBLE) AS satisfaction_met
FROM rates
LEFT JOIN areas a ON a.code = rates.unit
LEFT JOIN dated p ON p.area_code = rates.unit
