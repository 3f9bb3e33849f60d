"""The HTTP resources, one module per family of routes."""
