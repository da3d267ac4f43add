"""Public statistics: the province publishes (công bố) approved unit reports and citizens see
their figures by commune and ethnic group, with small cells suppressed (docs/statistics.md)."""
