-- A seasonal forecast per category and area from the months before $origin:
--   forecast = level(area) x index(category, calendar month)
-- index: the category's month-of-year profile pooled over every area (robust where one area's
-- counts are small), as the month's mean over the mean month; level: the area's last three
-- months before the origin, de-seasonalised. Seasonal-naive (the same month a year before) is
-- returned beside it for comparison. $months: the first days of the months to forecast.
WITH m AS (SELECT * FROM monthly_counts WHERE month < $origin),
grid AS (  -- every category-area-month since the first month, zeros included
    SELECT ca.category_code, ca.area_code, s.month
    FROM (SELECT DISTINCT category_code, area_code FROM m) ca
    CROSS JOIN (
        SELECT CAST(unnest(generate_series(min(month), CAST($origin AS DATE) - INTERVAL 1 MONTH,
                                            INTERVAL 1 MONTH)) AS DATE) AS month
        FROM m
    ) s
),
full_m AS (
    SELECT g.*, coalesce(m.n, 0) AS n
    FROM grid g LEFT JOIN m USING (category_code, area_code, month)
),
profile AS (
    SELECT category_code, month(month) AS moy, avg(total) AS mean_n
    FROM (SELECT category_code, month, sum(n) AS total FROM full_m GROUP BY ALL)
    GROUP BY ALL
),
idx AS (
    SELECT category_code, moy,
           mean_n / nullif(avg(mean_n) OVER (PARTITION BY category_code), 0) AS seasonal
    FROM profile
),
level AS (
    SELECT f.category_code, f.area_code,
           sum(f.n) / nullif(sum(coalesce(i.seasonal, 1)), 0) AS level
    FROM full_m f LEFT JOIN idx i ON i.category_code = f.category_code AND i.moy = month(f.month)
    WHERE f.month >= CAST($origin AS DATE) - INTERVAL 3 MONTH
    GROUP BY ALL
),
targets AS (SELECT CAST(unnest($months) AS DATE) AS month)
SELECT l.category_code, l.area_code, t.month,
       l.level * coalesce(i.seasonal, 1) AS forecast,
       coalesce(last_year.n, 0) AS seasonal_naive,
       l.level AS recent_level,
       -- a rise worth acting on before the calls come: well above the area's recent months
       l.level * coalesce(i.seasonal, 1) >= $rise * l.level AND l.level > 0 AS rising
FROM level l CROSS JOIN targets t
LEFT JOIN idx i ON i.category_code = l.category_code AND i.moy = month(t.month)
LEFT JOIN full_m last_year ON last_year.category_code = l.category_code
    AND last_year.area_code = l.area_code
    AND last_year.month = CAST(t.month - INTERVAL 12 MONTH AS DATE)
