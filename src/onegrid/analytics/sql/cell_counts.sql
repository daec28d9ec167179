-- Cases of one category per H3 res-10 cell in the period, for every cell where any case arose
-- (those with none of this category count zero): the hotspot scan's input, in one pass.
SELECT h3_10 AS cell, count(*) FILTER (WHERE category_code = $category) AS n
FROM cases
WHERE created_at >= $start AND created_at < $end AND h3_10 IS NOT NULL
GROUP BY h3_10
