-- Cases per category, area and local week: the series spikes are found in.
SELECT category_code, {area} AS area_code,
       CAST(date_trunc('week', timezone($tz, created_at)) AS DATE) AS week,
       count(*) AS n
FROM cases
WHERE created_at >= $start AND created_at < $end AND {area} IS NOT NULL
GROUP BY ALL
