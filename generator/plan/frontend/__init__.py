"""Frontend planning: the typed event map (events.ts), the delivery runtime and one Svelte listener per `listener:` name."""
