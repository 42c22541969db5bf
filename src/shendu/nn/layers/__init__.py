"""Layer Modules by family (linear, norm, dropout, conv, pool, recurrent, attention, embedding)."""
