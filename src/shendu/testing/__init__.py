"""Test support: the strict CPU stand-in for a GPU (``strict_device``)."""
