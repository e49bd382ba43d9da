{#- Annual targets per indicator to 2033, as the ministry set them in the catalogue. -#}
select indicator_code, cast(year as bigint) as year, cast(target as double) as target
from {{ source('raw', 'ref_indicator_targets') }}
