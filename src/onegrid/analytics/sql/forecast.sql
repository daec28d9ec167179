-- A seasonal forecast per category and area from the buckets (months or ISO weeks) before
-- $origin:
--   forecast = level(area) x index(category, bucket of the year)
-- index: the category's profile over the year (month of year, or ISO week of year) pooled over
-- every area (robust where one area's counts are small), as the bucket's mean over the mean
-- bucket. level: the area's de-seasonalised level over the year before the origin (a whole
-- year, so every season weighs once and an error in one bucket's index cancels out), times
-- the ratio of its recent buckets (three months, or thirteen weeks) to what that level expects
-- of them. The ratio is shrunk toward 1 by a prior of $prior cases (the posterior mean of a
-- Poisson rate ratio under a Gamma prior): a recent rise or fall moves the level in proportion
-- to the evidence for it, and a few cases more or less in a small area barely move it.
-- Seasonal-naive (the same bucket a year before: twelve months, or 52 weeks, the same ISO week
-- but after a 53-week year) is returned beside it for comparison.
-- $buckets: the first days of the buckets to forecast. The grain's calendar comes from the
-- placeholders: {step} one bucket, {recent} the recent window, {season} the bucket of the
-- year, {year} a year back.
WITH m AS (SELECT * FROM counts WHERE bucket < $origin),
grid AS (  -- every category-area-bucket since the first bucket, zeros included
    SELECT ca.category_code, ca.area_code, s.bucket
    FROM (SELECT DISTINCT category_code, area_code FROM m) ca
    CROSS JOIN (
        SELECT CAST(unnest(generate_series(min(bucket), CAST($origin AS DATE) - {step},
                                            {step})) AS DATE) AS bucket
        FROM m
    ) s
),
full_m AS (
    SELECT g.*, coalesce(m.n, 0) AS n
    FROM grid g LEFT JOIN m USING (category_code, area_code, bucket)
),
profile AS (
    SELECT category_code, {season}(bucket) AS boy, avg(total) AS mean_n
    FROM (SELECT category_code, bucket, sum(n) AS total FROM full_m GROUP BY ALL)
    GROUP BY ALL
),
idx AS (
    SELECT category_code, boy,
           mean_n / nullif(avg(mean_n) OVER (PARTITION BY category_code), 0) AS seasonal
    FROM profile
),
seasoned AS (  -- the last year's buckets, each with its index
    SELECT f.category_code, f.area_code, f.n, coalesce(i.seasonal, 1) AS seasonal,
           f.bucket >= CAST($origin AS DATE) - {recent} AS recent
    FROM full_m f
    LEFT JOIN idx i ON i.category_code = f.category_code AND i.boy = {season}(f.bucket)
    WHERE f.bucket >= CAST($origin AS DATE) - {year}
),
year_level AS (
    SELECT category_code, area_code,
           sum(n) / nullif(sum(seasonal), 0) AS base,
           coalesce(sum(n) FILTER (WHERE recent), 0) AS recent_n,
           coalesce(sum(seasonal) FILTER (WHERE recent), 0) AS recent_index
    FROM seasoned
    GROUP BY ALL
),
level AS (
    SELECT category_code, area_code,
           base * (recent_n + $prior) / (base * recent_index + $prior) AS level
    FROM year_level
),
targets AS (SELECT CAST(unnest($buckets) AS DATE) AS bucket)
SELECT l.category_code, l.area_code, t.bucket,
       l.level * coalesce(i.seasonal, 1) AS forecast,
       coalesce(last_year.n, 0) AS seasonal_naive,
       l.level AS recent_level,
       -- a rise worth acting on before the calls come: well above the area's recent level
       l.level * coalesce(i.seasonal, 1) >= $rise * l.level AND l.level > 0 AS rising
FROM level l CROSS JOIN targets t
LEFT JOIN idx i ON i.category_code = l.category_code AND i.boy = {season}(t.bucket)
LEFT JOIN full_m last_year ON last_year.category_code = l.category_code
    AND last_year.area_code = l.area_code
    AND last_year.bucket = CAST(t.bucket - {year} AS DATE)
