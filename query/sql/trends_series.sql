-- One series of a trend: its value per time bucket and breakdown value, and (the rows whose
-- bucket is '') its value over the whole range, from the same aggregation.
SELECT
    {{bucket}} AS bucket,
    {{breakdown}},
    {{aggregate}} AS value
FROM {{from}}
WHERE {{conditions}}
GROUP BY GROUPING SETS ((bucket, bd_other, bd_value), (bd_other, bd_value))
