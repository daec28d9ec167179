-- Cases per category, area and local (ISO, Monday-first) week: the series weekly spikes are
-- found in and the weekly forecast is fitted to.
SELECT category_code, {area} AS area_code,
       CAST(date_trunc('week', timezone($tz, created_at)) AS DATE) AS bucket,
       count(*) AS n
FROM cases
WHERE created_at >= $start AND created_at < $end AND {area} IS NOT NULL
GROUP BY ALL
