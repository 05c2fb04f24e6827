"""The foreign side: partner cities (city-level MOUs) and partner schools."""
