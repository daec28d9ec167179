-- The city's own cases created in the period, as far as the reader's scope reaches (the same
-- rule as the case list): every case ($everywhere), or a case whose area chain meets $areas, or
-- one assigned to a department in $departments; narrowed to one area ($area, any level) when
-- given. A merged duplicate is left out: its problem is counted once, on the case it joined.
-- The reporter fields (the keyed hash of the phone, and the account that opened the case, which
-- is the reporter's own for a citizen's report) are kept only on the rows the reader's
-- personal-data scope ($pd_*) reaches, as `case.read_personal_data` decides for one case.
WITH scoped AS (
    SELECT *, [city_code, district_code, subdistrict_code, community_code, unit_grid_code] AS chain
    FROM cases
    WHERE created_at >= $start AND created_at < $end AND merged_into_id IS NULL
)
SELECT number, category_code, component_id, channel, nature, urgency, status, department_code,
       city_code, district_code, subdistrict_code, community_code, unit_grid_code, region_class,
       source_type, h3_10, lon, lat,
       overdue_steps, extensions_granted, returns, reworks, reopens,
       created_at, filed_at, dispatched_at, closed_at, updated_at,
       CASE WHEN $pd_everywhere
                 OR list_has_any(CAST($pd_areas AS VARCHAR[]), chain)
                 OR list_contains(CAST($pd_departments AS VARCHAR[]), department_code)
            THEN created_by END AS created_by,
       CASE WHEN $pd_everywhere
                 OR list_has_any(CAST($pd_areas AS VARCHAR[]), chain)
                 OR list_contains(CAST($pd_departments AS VARCHAR[]), department_code)
            THEN reporter_key END AS reporter_key
FROM scoped
WHERE ($everywhere
       OR list_has_any(CAST($areas AS VARCHAR[]), chain)
       OR list_contains(CAST($departments AS VARCHAR[]), department_code))
  AND (CAST($area AS VARCHAR) IS NULL OR list_contains(chain, CAST($area AS VARCHAR)))
ORDER BY created_at, number
