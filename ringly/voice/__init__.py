"""Voice: the Rachel (English) and Lina (Spanish) TwiML flow."""
