-- Areas (DOMAIN.md section 7) at one level: cases created in the period, the share first
-- reported by the public (lower is better), density per km² and requests per 10,000 residents.
WITH c AS (
    SELECT {area} AS code, channel, status,
           date_trunc($grain, timezone($tz, created_at)) AS bucket
    FROM cases
    WHERE created_at >= $start AND created_at < $end AND {area} IS NOT NULL
)
SELECT
    c.code AS area_code,
    any_value(a.name_zh) AS name,
    CAST(c.bucket AS DATE) AS period_start,
    count(*) AS cases,
    count(*) FILTER (WHERE c.channel IN ('hotline', 'web_app', 'open311', 'media')) AS public_reports,
    count(*) FILTER (WHERE c.status = 'closed') AS closed,
    count(*) FILTER (WHERE c.status = 'cancelled') AS cancelled,
    public_reports / cases AS public_report_rate,
    cases / nullif(any_value(a.area_m2) / 1e6, 0) AS cases_per_km2,
    cases * 10000.0 / nullif(any_value(a.population), 0) AS cases_per_10k_residents
FROM c LEFT JOIN areas a ON a.code = c.code
GROUP BY c.code, c.bucket
ORDER BY period_start, area_code
