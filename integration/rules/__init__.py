"""Entity-specific synchronisation rules (what Business Central does in its event subscribers).

A module here defines ``Rules``, a subclass of `integration.rules.base.Rules`; a declared mapping
(integration/mappings/) names the class it follows. The engine calls its hooks once per run or per chunk, never per
query, so rules stay within the engine's constant number of queries per chunk.
"""
