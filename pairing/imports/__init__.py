"""Bulk import (CSV/XLSX, the Ministry of Education's school directories) and export."""
