"""The Tchap (Matrix) front end: ``python -m bot tchap`` (see docs/tchap.md)."""
