"""Pieces shared by every feature: enums, model mixins, list helpers, i18n helpers."""
