"""The local fake of the build APIs, as a fixture (see fakes.py)."""

from tests.infra.build.fakes import fake_apis

__all__ = ["fake_apis"]
