-- The department composite score over one period's department indicators: each configured item
-- earns its points at or beyond its threshold and loses per_point points per percentage point
-- short of it (never below 0); items without a value (no such cases) are left out and the score
-- is the share of the points that could be earned, ×100. Band: the highest lower bound reached.
WITH long AS (
    SELECT i.department_code, i.period_start, i.dispatched, m.indicator, m.points,
           m.threshold, m.per_point, m.lower_is_better,
           CASE m.indicator {values} END AS value
    FROM indicators i CROSS JOIN items m
),
scored AS (
    SELECT *,
           CASE WHEN value IS NOT NULL THEN
               greatest(0.0, points - per_point * 100 * greatest(0.0,
                   CASE WHEN lower_is_better THEN value - threshold ELSE threshold - value END))
           END AS earned
    FROM long
),
totals AS (
    SELECT department_code, period_start, any_value(dispatched) AS dispatched,
           sum(earned) AS points,
           sum(points) FILTER (WHERE value IS NOT NULL) AS points_possible,
           {per_item}
    FROM scored
    GROUP BY department_code, period_start
)
SELECT
    rank() OVER (ORDER BY t.score DESC NULLS LAST) AS rank,
    t.*,
    (SELECT b.band FROM bands b WHERE t.score >= b.min_score ORDER BY b.min_score DESC LIMIT 1)
        AS band
FROM (SELECT *, 100 * points / nullif(points_possible, 0) AS score FROM totals) t
ORDER BY rank, department_code
