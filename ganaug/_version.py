"""The package version, in a module of its own so that the core reads it without importing the package."""

__version__ = "0.2.0.dev0"
