"""Data lookup (tra cứu số liệu): a table of approved figures, shareable and exportable."""
