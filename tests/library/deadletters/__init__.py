"""Tests of library/deadletters."""
