"""Evaluation: retrieval and answer metrics, the run store, and reports."""
