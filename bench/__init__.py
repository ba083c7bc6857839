"""nanobragg-ext benchmarks (not part of the test suite); see README.md."""
