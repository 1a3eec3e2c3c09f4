"""Booking: appointments and free slots in a client's own hours and time zone."""
