"""The unit reports above the village: commune (and district) aggregates and their approval."""
