"""Clients: the businesses Ringly answers for."""
