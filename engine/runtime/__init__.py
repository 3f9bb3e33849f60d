"""The composition root (bootstrap), the command line, the server and the scheduler loop."""
