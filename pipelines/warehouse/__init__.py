"""Where pipelines load and what the dataset needs besides the tables: destinations and migrations."""
