"""The domain: entities, enums and lifecycles. Pure: no I/O, no clock; `now` comes in."""
