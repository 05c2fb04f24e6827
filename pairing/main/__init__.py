"""Site-wide pages: home, language switch, health check, packaged assets."""
