"""Messaging: SMS in and out, and voicemails."""
