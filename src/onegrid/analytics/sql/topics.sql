-- One topic a month (每月一题): categories ranked by volume, growth on the month before,
-- departments involved and repeat calls; the candidate's score is the sum of its four ranks
-- (lower is stronger), with three example cases.
WITH this AS (
    SELECT * FROM cases WHERE created_at >= $start AND created_at < $end
),
prev AS (
    SELECT category_code, count(*) AS before FROM cases
    WHERE created_at >= $prev_start AND created_at < $start GROUP BY 1
),
repeats AS (
    SELECT category_code, count(*) FILTER (WHERE calls > 1) AS repeat_calls
    FROM (
        SELECT category_code, count(*) OVER (PARTITION BY category_code, reporter_key) AS calls
        FROM this WHERE reporter_key IS NOT NULL
    )
    GROUP BY 1
),
per AS (
    SELECT t.category_code, count(*) AS volume,
           count(DISTINCT t.department_code) AS departments,
           list(t.number ORDER BY t.created_at)[1:3] AS examples
    FROM this t GROUP BY 1
),
scored AS (
    SELECT per.*, coalesce(prev.before, 0) AS previous,
           (per.volume - coalesce(prev.before, 0)) / nullif(prev.before, 0) AS growth,
           coalesce(r.repeat_calls, 0) AS repeat_calls
    FROM per LEFT JOIN prev USING (category_code) LEFT JOIN repeats r USING (category_code)
    WHERE per.volume >= $min_volume
)
SELECT *,
       rank() OVER (ORDER BY volume DESC) + rank() OVER (ORDER BY growth DESC NULLS LAST)
       + rank() OVER (ORDER BY departments DESC) + rank() OVER (ORDER BY repeat_calls DESC)
           AS rank_sum
FROM scored
ORDER BY rank_sum, volume DESC, category_code
