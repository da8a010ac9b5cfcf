"""DiaLog outbound: linked organisations' roadworks sent as regulations (docs/interop.md)."""
