-- Each category and area this week against its seasonal baseline: the mean count of the same
-- week and the weeks either side in earlier years ($baseline: the list of those weeks).
WITH w AS (SELECT * FROM weekly_counts),
now AS (SELECT category_code, area_code, n FROM w WHERE week = $week),
base AS (
    SELECT category_code, area_code, sum(n) AS past
    FROM w WHERE list_contains($baseline, week)
    GROUP BY ALL
)
SELECT now.category_code, now.area_code, now.n AS observed,
       coalesce(base.past, 0) / $baseline_weeks AS expected
FROM now LEFT JOIN base USING (category_code, area_code)
