"""Figures that leave or enter this instance: approved unit reports received from a province
(``POST /api/v1/reports``, sent by ``flask sync push``), and DHIS2 ``dataValueSets`` export
and import through a mapping table (docs/api.md §Reports up and §DHIS2)."""
