"""Review annotations: per-field comments on a returned version."""
