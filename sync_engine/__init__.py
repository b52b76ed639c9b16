"""Data sources and sync jobs: the engine that drives connectors through the pipeline."""
