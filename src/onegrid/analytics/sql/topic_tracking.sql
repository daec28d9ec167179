-- A chosen topic month by month: its requests and the change on the month before; in one
-- area (a district, subdistrict or community) when $area is given, else citywide.
WITH m AS (
    SELECT CAST(date_trunc('month', timezone($tz, created_at)) AS DATE) AS month, count(*) AS n
    FROM cases
    WHERE category_code = $category AND created_at >= $start AND created_at < $end
      AND (CAST($area AS VARCHAR) IS NULL
           OR CAST($area AS VARCHAR) IN (district_code, subdistrict_code, community_code))
    GROUP BY 1
)
SELECT month, n, n - lag(n) OVER (ORDER BY month) AS change,
       (n - lag(n) OVER (ORDER BY month)) / nullif(lag(n) OVER (ORDER BY month), 0) AS change_rate
FROM m ORDER BY month
