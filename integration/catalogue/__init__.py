"""What a mapping may name: the tables the Sales and ERP apps declare synchronisable (registry) and what the
integration knows of their fields (fields: categories, conversions, natural keys). The models, the engine and the
screens read it; it imports none of them."""
