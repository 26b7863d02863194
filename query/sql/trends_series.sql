-- One series of a trend: its value per time bucket and breakdown value, and (the rows whose
-- bucket is '') its value over the whole range, from the same aggregation; per period
-- (`previous`) when the statement reads both.
SELECT
    {{bucket}} AS bucket,
    {{previous}} AS previous,
    {{breakdown}},
    {{aggregate}} AS value
FROM {{from}}
WHERE {{conditions}}
GROUP BY GROUPING SETS ((previous, bucket, bd_other, bd_value), (previous, bd_other, bd_value))
