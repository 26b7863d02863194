-- Series of a trend: their values (`value`, or `value_0`, `value_1`, … for several series
-- each aggregating only its own rows) per time bucket and breakdown value, and (the rows
-- whose bucket is '') over the whole range, from the same aggregation; per period
-- (`previous`) when the statement reads both.
SELECT
    {{bucket}} AS bucket,
    {{previous}} AS previous,
    {{breakdown}},
    {{aggregates}}
FROM {{from}}
WHERE {{conditions}}
GROUP BY GROUPING SETS ((previous, bucket, bd_other, bd_value), (previous, bd_other, bd_value))
