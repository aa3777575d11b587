"""Nightly builds: the jobs file, build, schedule, publish, the podcast feed."""
