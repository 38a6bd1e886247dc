"""The strategy app: the composite of a strategic question, its recompute job, the API and the admin."""
