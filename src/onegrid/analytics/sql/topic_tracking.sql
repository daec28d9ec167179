-- A chosen topic month by month: its requests and the change on the month before; in one
-- area (a district, subdistrict or community) when $area is given, else citywide.
-- Every month of the period is listed, a month without requests as 0, and the first month's
-- change is on the whole calendar month before the period (counted, not listed): a month's
-- change is always on the month just before it, never on the last month with requests.
WITH months AS (
    SELECT CAST(month AS DATE) AS month
    FROM generate_series(
        CAST(date_trunc('month', $first) AS DATE) - INTERVAL 1 MONTH,
        CAST(date_trunc('month', $last) AS DATE),
        INTERVAL 1 MONTH
    ) AS s(month)
),
counted AS (
    SELECT CAST(date_trunc('month', timezone($tz, created_at)) AS DATE) AS month, count(*) AS n
    FROM cases
    WHERE category_code = $category
      -- From the local midnight that begins the baseline month to the period's end.
      AND created_at >= timezone($tz, CAST((SELECT min(month) FROM months) AS TIMESTAMP))
      AND created_at < $end
      AND (CAST($area AS VARCHAR) IS NULL
           OR CAST($area AS VARCHAR) IN (district_code, subdistrict_code, community_code))
      -- The period's own days only, but the baseline month whole.
      AND (created_at >= $start
           OR timezone($tz, created_at) < CAST(date_trunc('month', $first) AS TIMESTAMP))
    GROUP BY 1
),
series AS (
    SELECT months.month, coalesce(counted.n, 0) AS n,
           lag(coalesce(counted.n, 0)) OVER (ORDER BY months.month) AS before
    FROM months LEFT JOIN counted USING (month)
)
SELECT month, n, n - before AS change, (n - before) / nullif(before, 0) AS change_rate
FROM series
WHERE month >= CAST(date_trunc('month', $first) AS DATE)
ORDER BY month
