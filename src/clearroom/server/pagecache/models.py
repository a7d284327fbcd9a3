"""No models: the generation table and its triggers are made by :mod:`.generation` after every
migration, outside Django's model registry, so that a test's flush never empties the table."""
