"""Local schools and the districts they sit in."""
