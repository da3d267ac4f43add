"""Interface languages: Vietnamese first, English second, minority locales by design."""
