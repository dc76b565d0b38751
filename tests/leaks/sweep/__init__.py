"""The tests of the leak sweep, on one world (``conftest.world``) built once for them all."""
