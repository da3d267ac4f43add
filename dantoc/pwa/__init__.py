"""Progressive web app: manifest, service worker, offline page (issue #6 builds it out)."""
