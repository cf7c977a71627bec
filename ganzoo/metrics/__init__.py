"""Metrics: distances between generated and real samples, and the feature extractors they use."""
