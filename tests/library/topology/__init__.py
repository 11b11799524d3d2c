"""Tests of library/topology."""
