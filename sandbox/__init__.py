"""Local stand-ins for third-party APIs, used by demos, end-to-end tests and benchmarks."""
