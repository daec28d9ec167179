-- Each category and area in one bucket (a week or a day) against its seasonal baseline: the
-- mean count of the buckets of earlier years that match it ($baseline: the same week and the
-- weeks either side, or the same weekday of those weeks). `counts` has one row per category,
-- area and bucket. Only counts of at least $min_observed are candidates; the largest excess over
-- the baseline comes first. (Whether a count lies above its Poisson interval is decided on these
-- rows by the caller: SQL has no Poisson quantile.)
WITH c AS (SELECT * FROM counts),
now AS (SELECT category_code, area_code, n FROM c WHERE bucket = $bucket),
base AS (
    SELECT category_code, area_code, sum(n) AS past
    FROM c WHERE list_contains($baseline, bucket)
    GROUP BY ALL
)
SELECT now.category_code, now.area_code, now.n AS observed,
       coalesce(base.past, 0) / $baseline_buckets AS expected
FROM now LEFT JOIN base USING (category_code, area_code)
WHERE now.n >= $min_observed
ORDER BY observed - expected DESC, category_code, area_code
