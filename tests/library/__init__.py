"""Tests of the library layer (library/), mirroring its modules."""
