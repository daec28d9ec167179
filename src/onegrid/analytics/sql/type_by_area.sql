-- Requests per source type (or category) and area over a period, with the median time from
-- opening to closing of those closed.
SELECT {type} AS type, {area} AS area_code,
       count(*) AS cases,
       count(closed_at) AS closed,
       median(epoch(closed_at) - epoch(created_at)) AS median_close_seconds
FROM cases
WHERE created_at >= $start AND created_at < $end AND {area} IS NOT NULL
GROUP BY ALL
ORDER BY type, area_code
