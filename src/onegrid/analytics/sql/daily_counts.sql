-- Cases per category, area and local day: the series daily spikes are found in.
SELECT category_code, {area} AS area_code,
       CAST(timezone($tz, created_at) AS DATE) AS bucket,
       count(*) AS n
FROM cases
WHERE created_at >= $start AND created_at < $end AND {area} IS NOT NULL
GROUP BY ALL
