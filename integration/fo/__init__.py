"""Finance and Operations "prospect to cash" data integration (docs/features.md P1-P6): templates, projects, the upgrade
step, the externally maintained records (externally_maintained), their admin screens and API. Its declared mappings are
integration/mappings/fo.py (rules: integration/rules/fo_*.py); its tables integration/models/fo.py."""
