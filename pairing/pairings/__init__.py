"""Pairings between a local school and a partner school, and the activities inside them."""
