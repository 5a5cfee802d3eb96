"""What a mapping may name: the tables the Sales and ERP apps declare synchronisable (registry), what the integration
knows of their fields (fields: categories, conversions, natural keys), filters, the directions, the checks a mapping
passes when it is saved (validation) and the declared mappings by key (definitions). The models, the engine and the
screens read it; it imports none of them, nor the rules (import contract catalogue-below-models)."""
