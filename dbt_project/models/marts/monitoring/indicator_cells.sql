{#- Every indicator's value per period (month, quarter, year) and disaggregation, before
    disclosure control: engineering warehouse only. indicator_values is what is published. -#}
{{ indicator_cells_of() }}
