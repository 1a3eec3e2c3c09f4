"""Ringly: an AI phone receptionist service."""
